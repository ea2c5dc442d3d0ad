"""How steps run: the Dagster executor of each deployment, and the pod each step gets on Kubernetes.

local, thrift  Dagster's multiprocess executor: every step a process on this machine, forked from
               a server that has imported the code location once (see LOCAL_EXECUTOR).
k8s            dagster-k8s' `k8s_job_executor`: every step a Kubernetes Job (one pod).

A step pod's size depends on its tier, so it is a `dagster-k8s/config` op tag on the assets:
dagster-k8s 0.29.27 builds a step's pod from the run launcher, the code location, the executor's
`step_k8s_config` and the op's tags, never from the run's tags (docs/design-decisions.md#d9;
executor.py calls `create_for_run(..., include_run_tags=False)` and has no option to change that). A
pod's priority depends on its run (a backfill or not), which no op tag can know: the executor below
reads the run's tags when the run starts and sets the priority class in that run's
`step_k8s_config`.
The op tags are inert under the local executors.
"""

import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import dagster as dg
from dagster._core.storage.tags import BACKFILL_ID_TAG
from dagster_k8s import k8s_job_executor
from dagster_k8s.job import USER_DEFINED_K8S_CONFIG_KEY

if TYPE_CHECKING:  # the executor interface's types
    from dagster._core.execution.context.system import PlanOrchestrationContext
    from dagster._core.execution.plan.plan import ExecutionPlan
    from dagster._core.execution.retries import RetryMode
    from dagster._core.execution.step_dependency_config import StepDependencyConfig

# A bronze step copies one source's deliveries with pyarrow, a day at a time. A dbt step builds the
# silver AND gold models of one partitions definition in one dbt call (docs/design-decisions.md#d2)
# and reads back row counts and column metadata; the Spark work itself runs on the Thrift server.
# Memory is limited (a runaway step is killed, not its neighbours); CPU is not (no throttling).
BRONZE_POD_RESOURCES = {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "1Gi"}}
DBT_POD_RESOURCES = {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "4Gi"}}

# The two PriorityClasses of deploy/k8s/priority-classes.yaml. Backfill step pods have the lower
# one: the scheduler preempts them to make room for the daily runs, never the other way round.
NORMAL_PRIORITY_CLASS = "ettl-normal"
BACKFILL_PRIORITY_CLASS = "ettl-backfill"
# Dagster puts BACKFILL_ID_TAG on every run of a backfill: launched in the UI, through GraphQL, by
# `dagster job backfill`, or submitted by `ettl backfill` / `ettl plan --apply` (ettl/submit.py).

# The image's `ettl` user (deploy/Dockerfile). Group-writable volumes through fs_group.
RUN_AS_USER = 10001
POD_SECURITY_CONTEXT = {
    "run_as_non_root": True,
    "run_as_user": RUN_AS_USER,
    "run_as_group": RUN_AS_USER,
    "fs_group": RUN_AS_USER,
    "seccomp_profile": {"type": "RuntimeDefault"},
}
CONTAINER_SECURITY_CONTEXT = {
    "allow_privilege_escalation": False,
    "capabilities": {"drop": ["ALL"]},
}


def pod_op_tags(resources: Mapping[str, Any]) -> dict[str, str]:
    """The op tags that size a step's pod (dagster-k8s reads them as JSON)."""
    return {USER_DEFINED_K8S_CONFIG_KEY: json.dumps({"container_config": {"resources": resources}})}


BRONZE_OP_TAGS = pod_op_tags(BRONZE_POD_RESOURCES)
DBT_OP_TAGS = pod_op_tags(DBT_POD_RESOURCES)


def is_backfill(run_tags: Mapping[str, str]) -> bool:
    return BACKFILL_ID_TAG in run_tags


def priority_class_for(run_tags: Mapping[str, str]) -> str:
    return BACKFILL_PRIORITY_CLASS if is_backfill(run_tags) else NORMAL_PRIORITY_CLASS


def step_k8s_config(run_tags: Mapping[str, str]) -> dict[str, Any]:
    """What every step pod of a run gets: the non-root security context and the run's priority."""
    return {
        "pod_spec_config": {
            "security_context": POD_SECURITY_CONTEXT,
            "priority_class_name": priority_class_for(run_tags),
        },
        "container_config": {"security_context": CONTAINER_SECURITY_CONTEXT},
    }


class RunPriorityK8sExecutor(dg.Executor):
    """`k8s_job_executor`, with the run's priority class and security context in its
    `step_k8s_config`. The run is known only when it executes, so the k8s executor is built then.
    """

    def __init__(self, init_context: dg.InitExecutorContext) -> None:
        self._init_context = init_context
        # Built once up front for the settings Dagster reads before execute (retries...).
        self._without_run = k8s_job_executor.executor_creation_fn(init_context)

    @property
    def retries(self) -> "RetryMode":
        return self._without_run.retries

    @property
    def step_dependency_config(self) -> "StepDependencyConfig":
        return self._without_run.step_dependency_config

    def execute(
        self, plan_context: "PlanOrchestrationContext", execution_plan: "ExecutionPlan"
    ) -> Iterator[dg.DagsterEvent]:
        config = dict(self._init_context.executor_config)
        config["step_k8s_config"] = _with_sections(
            config.get("step_k8s_config") or {}, step_k8s_config(plan_context.dagster_run.tags)
        )
        for_run = self._init_context._replace(executor_config=config)  # a NamedTuple
        return k8s_job_executor.executor_creation_fn(for_run).execute(plan_context, execution_plan)


def _with_sections(configured: Mapping[str, Any], ours: Mapping[str, Any]) -> dict[str, Any]:
    """`configured` (run config) with our keys set in each of its sections."""
    merged = dict(configured)
    for section, values in ours.items():
        merged[section] = {**configured.get(section, {}), **values}
    return merged


@dg.executor(
    name="ettl_k8s",
    config_schema=k8s_job_executor.config_schema,
    requirements=[
        dg.ExecutorRequirement.RECONSTRUCTABLE_JOB,
        dg.ExecutorRequirement.NON_EPHEMERAL_INSTANCE,
        dg.ExecutorRequirement.PERSISTENT_OUTPUTS,
    ],
)
def k8s_step_executor(init_context: dg.InitExecutorContext) -> dg.Executor:
    """One Kubernetes Job per step, sized by the step's op tags, prioritized by its run."""
    return RunPriorityK8sExecutor(init_context)


# Dagster's default start method is `spawn`: each step process imports dagster, dagster-dbt and
# the definitions again, ~4.5 s of a one-day run's two dbt steps each (profiled, bench P3).
# `forkserver` imports them once per run and forks every step from there.
# (`execute_in_process`, used by tests, ignores the executor and runs in-process.)
CODE_LOCATION_MODULE = "ettl_assets.definitions"
LOCAL_EXECUTOR = dg.multiprocess_executor.configured(
    {"start_method": {"forkserver": {"preload_modules": [CODE_LOCATION_MODULE]}}},
    name="ettl_multiprocess",
)


def executor_for(deployment: str) -> dg.ExecutorDefinition:
    """The executor of a deployment (settings.deployment())."""
    if deployment == "k8s":
        return k8s_step_executor
    return LOCAL_EXECUTOR
