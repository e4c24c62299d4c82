"""The sample service's tests (run by the deployment's check step)."""

from app import healthy  # type: ignore[import-not-found]  # run from its own folder

assert healthy(), "the service must be healthy with its shipped settings"
print("1 test passed")
