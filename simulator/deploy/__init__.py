"""Deploy a design on a real engine: a pure :func:`~simulator.deploy.plan.plan` and a thin
:func:`~simulator.deploy.apply.apply` (and ``destroy``, which removes everything by label).
"""

__all__ = ["apply", "plan"]
