"""The GraphQA tasks, one module each: every module of this package is imported here, and each registers its
task (`base.register_task`). `TASKS` holds them in their default order (`Task.position`), so adding a task is
adding one module and touches no other file."""

from __future__ import annotations

import importlib
import pkgutil

from graphllm.data.graphqa.tasks.base import CLASSES, REGISTRY, Task, TaskItem, register_task

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

TASKS: dict[str, Task] = dict(sorted(REGISTRY.items(), key=lambda item: item[1].position))

__all__ = ["CLASSES", "TASKS", "Task", "TaskItem", "register_task"]
