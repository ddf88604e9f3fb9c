"""From a recipe to a model: the typed recipe schema and the one place that wires encoder, bridge and LLM."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from graphllm.config import TrainConfig
from graphllm.errors import GraphLLMError
from graphllm.models.bridges import REGISTRY as BRIDGES
from graphllm.models.convolutions import CONVOLUTIONS
from graphllm.models.gnn import GNNConfig, GNNEncoder
from graphllm.models.graph_llm import GraphLLM
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


class Recipe(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    bridge: str | None = Field(default=None, description="a registered bridge (graphllm/models/bridges/)")
    bridge_options: dict = Field(default_factory=dict, description="checked against the bridge's own options")
    gnn: dict = Field(default_factory=dict, description="GNNConfig settings (graphllm/models/gnn.py)")
    include_graph_text: bool = False
    few_shot: int = Field(default=0, ge=0, description="solved training examples shown before each question")
    # None: the chat template's default system turn; "": an empty one, for recipes that learn the answer format
    system_prompt: str | None = "Answer the question about the graph. Reply with the answer only."
    adaptation: Literal["frozen", "lora", "adapter"] = "frozen"
    adapter_bottleneck: int = Field(default=64, ge=1, description="width of the bottleneck adapters")
    lora: LoraOptions = Field(default_factory=LoraOptions)
    prompt: PromptOptions | None = None  # peft prompt learning on the text (no GNN)
    train: dict = Field(default_factory=dict, description="TrainConfig settings (graphllm/config.py)")

    @model_validator(mode="after")
    def _bridge_and_its_options(self):
        if self.bridge is None:
            if self.bridge_options:
                raise ValueError("bridge_options given without a bridge")
            return self
        if self.bridge not in BRIDGES:
            raise ValueError(f"unknown bridge {self.bridge!r}; choose from {', '.join(BRIDGES)}")
        try:  # a typo is an error, not a default
            BRIDGES[self.bridge].options.model_validate(self.bridge_options)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise ValueError(f"bridge_options.{'.'.join(map(str, err['loc']))}: {err['msg']} "
                             f"(the {self.bridge} bridge takes {', '.join(BRIDGES[self.bridge].options.model_fields)})"
                             ) from None
        return self

    @model_validator(mode="after")
    def _gnn_and_train_settings(self):
        # the dataclasses the settings become, checked when the recipe loads: a typo is an error, not a default
        for name, settings in (("gnn", GNNConfig), ("train", TrainConfig)):
            values = getattr(self, name)
            known = [f.name for f in dataclasses.fields(settings) if f.name != "input_dim"]
            unknown = sorted(set(values) - set(known))
            if unknown:
                raise ValueError(f"{name}.{unknown[0]}: unknown setting (known: {', '.join(known)})")
            try:
                TypeAdapter(settings).validate_python(values)
            except ValidationError as exc:
                err = exc.errors()[0]
                where = ".".join([name, *map(str, err["loc"])])
                raise ValueError(f"{where}: {err['msg'].removeprefix('Value error, ')}") from None
        if self.gnn.get("conv", GNNConfig.conv) not in CONVOLUTIONS:
            raise ValueError(f"gnn.conv: unknown convolution {self.gnn['conv']!r}; choose from "
                             f"{', '.join(CONVOLUTIONS)}")
        return self

    @property
    def trains(self) -> bool:
        return self.bridge is not None or self.adaptation != "frozen" or self.prompt is not None

    def train_config(self, **overrides) -> TrainConfig:
        try:
            return TrainConfig(**{**self.train, **{k: v for k, v in overrides.items() if v is not None}})
        except TypeError as exc:
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
        err = exc.errors()[0]
        where = f"field {'.'.join(map(str, err['loc']))!r}: " if err["loc"] else ""
        raise RecipeError(f"{path}: {where}{err['msg'].removeprefix('Value error, ')}") from None


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
        gnn_config = GNNConfig(**{**recipe.gnn, "input_dim": input_dim})
        encoder = GNNEncoder(gnn_config)
        entry = BRIDGES[recipe.bridge]
        bridge = entry.build(gnn_config.hidden, shape, base, entry.options.model_validate(recipe.bridge_options),
                             tokenizer)
    except (TypeError, ValueError) as exc:
        raise RecipeError(f"recipe {recipe.name!r}: {exc}") from None
    return GraphLLM(llm, encoder, bridge, freeze_llm=recipe.adaptation == "frozen")
