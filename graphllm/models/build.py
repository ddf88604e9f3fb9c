"""From a recipe to a model: the typed recipe schema and the one place that wires encoder, bridge and LLM."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from graphllm.config import TrainConfig
from graphllm.errors import GraphLLMError
from graphllm.models.bridges import REGISTRY as BRIDGES
from graphllm.models.convolutions import CONVOLUTIONS
from graphllm.models.gnn import GNNConfig, GNNEncoder
from graphllm.models.graph_llm import GraphLLM
from graphllm.models.kinds import kind_union
from graphllm.models.llm import LLMShape

RECIPES_DIR = Path(__file__).resolve().parents[1] / "recipes"


class RecipeError(GraphLLMError):
    pass


class LoraOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    r: int = 8
    alpha: int = 16
    dropout: float = 0.0


class PromptOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: Literal["prompt-tuning", "prefix-tuning", "p-tuning"]
    virtual_tokens: int = 20
    encoder: Literal["MLP", "LSTM"] = "MLP"  # P-tuning's prompt encoder
    hidden: int = 128


BridgeOptions = kind_union(entry.options for entry in BRIDGES.values())  # a registered bridge and its options


class Recipe(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    # a registered bridge (graphllm/models/bridges/): `graph-prefix`, or {kind: graph-prefix, mid_dim: 256, ...}
    bridge: BridgeOptions | None = None
    gnn: GNNConfig = Field(default_factory=GNNConfig)
    include_graph_text: bool = False
    few_shot: int = Field(default=0, ge=0, description="solved training examples shown before each question")
    # None: the chat template's default system turn; "": an empty one, for recipes that learn the answer format
    system_prompt: str | None = "Answer the question about the graph. Reply with the answer only."
    adaptation: Literal["frozen", "lora", "adapter"] = "frozen"
    adapter_bottleneck: int = Field(default=64, ge=1, description="width of the bottleneck adapters")
    lora: LoraOptions = Field(default_factory=LoraOptions)
    prompt: PromptOptions | None = None  # peft prompt learning on the text (no GNN)
    train: TrainConfig = Field(default_factory=TrainConfig)
    # a task's own training settings over `train`, for a model trained on that task alone (--per-task); a run
    # on several tasks at once trains with `train`
    task_train: dict[str, TrainConfig] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _stored_form(cls, data):
        # runs stored before bridges were tagged wrote `bridge: NAME` beside `bridge_options: {...}`
        if isinstance(data, dict) and "bridge_options" in data:
            data = dict(data)
            options = data.pop("bridge_options") or {}
            if isinstance(data.get("bridge"), str):
                data["bridge"] = {**options, "kind": data["bridge"]}
            elif options:
                raise ValueError("bridge_options given without a bridge name")
        return data

    @model_validator(mode="before")
    @classmethod
    def _task_settings_over_train(cls, data):
        if isinstance(data, dict) and isinstance(data.get("task_train"), dict):
            from graphllm.data.graphqa.tasks import TASKS

            shared = data.get("train") or {}
            shared = dataclasses.asdict(shared) if isinstance(shared, TrainConfig) else shared
            merged = {}
            for task, settings in data["task_train"].items():
                if task not in TASKS:
                    raise ValueError(f"task_train: unknown task {task!r}; choose from {', '.join(TASKS)}")
                settings = dataclasses.asdict(settings) if isinstance(settings, TrainConfig) else settings
                merged[task] = {**shared, **(settings or {})}
            data = {**data, "task_train": merged}
        return data

    def for_tasks(self, tasks: list[str]) -> Recipe:
        """This recipe as a run on `tasks` trains it: with one task, that task's `task_train` settings."""
        if len(tasks) != 1 or tasks[0] not in self.task_train:
            return self.model_copy(update={"task_train": {}})
        return self.model_copy(update={"train": self.task_train[tasks[0]], "task_train": {}})

    @property
    def trains(self) -> bool:
        return self.bridge is not None or self.adaptation != "frozen" or self.prompt is not None

    def train_config(self, **overrides) -> TrainConfig:
        try:
            return dataclasses.replace(self.train, **{k: v for k, v in overrides.items() if v is not None})
        except (TypeError, ValueError) as exc:
            raise RecipeError(f"recipe {self.name!r}: bad train setting ({exc})") from None


def recipe_names() -> list[str]:
    return sorted(p.stem for p in RECIPES_DIR.glob("*.yaml"))


def load_recipe(name_or_path: str | Path) -> Recipe:
    path = Path(name_or_path)
    if not path.exists():
        path = RECIPES_DIR / f"{name_or_path}.yaml"
    if not path.exists():
        raise RecipeError(f"no recipe {name_or_path!r}; choose from {', '.join(recipe_names())} or give a YAML path")
    try:
        return Recipe.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except yaml.YAMLError as exc:
        raise RecipeError(f"{path}: YAML syntax error: {exc}") from None
    except ValidationError as exc:
        raise RecipeError(f"{path}: {recipe_problem(exc)}") from None


def _options_at(loc: tuple) -> tuple[tuple, type | None]:
    """(the location without union tags, the options class that holds its last part)."""
    where, holder = [], Recipe
    for part in loc[:-1]:
        if holder is Recipe and part == "bridge":
            holder = "bridge"
        elif holder == "bridge" and part in BRIDGES:
            holder = BRIDGES[part].options
            continue
        elif holder is GNNConfig and part == "conv":
            holder = "conv"
        elif holder == "conv" and part in CONVOLUTIONS:
            holder = CONVOLUTIONS[part].options
            continue
        elif holder == "task_train":
            holder = TrainConfig
        else:
            holder = {"gnn": GNNConfig, "train": TrainConfig, "lora": LoraOptions, "prompt": PromptOptions,
                      "task_train": "task_train"}.get(part)
        where.append(str(part))
    return (*where, *map(str, loc[-1:])), holder if isinstance(holder, type) else None


def recipe_problem(exc: ValidationError) -> str:
    """The first problem of a recipe as one line: where, what, and the names to choose from."""
    err = exc.errors()[0]
    where, holder = _options_at(tuple(err["loc"]))
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] in ("extra_forbidden", "unexpected_keyword_argument") and holder is not None:
        known = (holder.model_fields if hasattr(holder, "model_fields")
                 else [f.name for f in dataclasses.fields(holder)])
        message = f"unknown setting (known: {', '.join(known)})"
    elif err["type"] == "union_tag_invalid":
        noun = {"bridge": "bridge", "conv": "convolution"}.get(where[-1], "kind")
        choices = (BRIDGES if noun == "bridge" else CONVOLUTIONS if noun == "convolution" else {})
        message = f"unknown {noun} {err['ctx']['tag']!r}; choose from {', '.join(sorted(choices))}"
    return f"{'.'.join(where)}: {message}" if where else message


def build_model(recipe: Recipe, llm, input_dim: int | None = None, tokenizer=None) -> GraphLLM:
    """The recipe's model around `llm`; its new parts (GNN, bridge, adapters) are made on the LLM's device. A bridge
    that writes into the LLM's vocabulary (count digits) needs the LLM's `tokenizer`."""
    model = _build_model(recipe, llm, input_dim, tokenizer)
    model.tokenizer = tokenizer  # a model built from this one (a distilled draft) needs it too
    return model.to(model.device)


def _build_model(recipe: Recipe, llm, input_dim: int | None, tokenizer) -> GraphLLM:
    if recipe.prompt is not None:
        from peft import get_peft_model

        from graphllm.models.bridges.peft_prompt import PeftPromptBridge, peft_prompt_config

        options = recipe.prompt
        peft_model = get_peft_model(llm, peft_prompt_config(options.method, options.virtual_tokens, options.encoder,
                                                            options.hidden))
        return GraphLLM(peft_model.get_base_model(), bridge=PeftPromptBridge(peft_model, options.method))
    if recipe.adaptation == "lora":
        from peft import LoraConfig, get_peft_model

        llm = get_peft_model(llm, LoraConfig(r=recipe.lora.r, lora_alpha=recipe.lora.alpha,
                                             lora_dropout=recipe.lora.dropout, task_type="CAUSAL_LM"))
    if recipe.bridge is None:
        model = GraphLLM(llm, freeze_llm=recipe.adaptation != "lora")
        if recipe.adaptation == "adapter":
            from graphllm.models.adapters import Adapters

            shape = LLMShape.of(llm.config)
            model.adapters = Adapters(llm, shape.layers, shape.hidden, recipe.adapter_bottleneck)
        return model
    base = llm.get_base_model() if hasattr(llm, "get_base_model") else llm
    shape = LLMShape.of(base.config)
    try:
        gnn_config = recipe.gnn.model_copy(update={"input_dim": input_dim})
        encoder = GNNEncoder(gnn_config)
        bridge = BRIDGES[recipe.bridge.kind].build(gnn_config.hidden, shape, base, recipe.bridge, tokenizer)
    except (TypeError, ValueError) as exc:
        raise RecipeError(f"recipe {recipe.name!r}: {exc}") from None
    return GraphLLM(llm, encoder, bridge, freeze_llm=recipe.adaptation == "frozen")
