"""Batching graph questions for a causal LM: a PyG `Batch` plus tokenised chat prompts.

Training batches are right-padded and carry `labels` that are -100 everywhere except the answer tokens
(and the end-of-turn token that closes them), so the loss is on the answer only. Generation batches are
left-padded so every row's next token is at the last position. `node_index` holds, per row, the
positions in the batched node dimension of the nodes the question refers to (-1 padding). `graph_position`
is, per row, the index of the first token of the question's user turn: graph soft tokens go there, where the
graph would be written as text, and not at position 0, which LLMs use as an attention sink.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch_geometric.data import Batch

IGNORE = -100
GRAPH_MARK = "\uE000"  # a private-use character marking where the graph goes; removed before tokenising


@dataclass
class GraphBatch:
    graph: Batch
    input_ids: torch.Tensor  # [B, T]
    attention_mask: torch.Tensor  # [B, T]
    position_ids: torch.Tensor  # [B, T], 0 at each row's first real token
    labels: torch.Tensor | None  # [B, T] in training, else None
    node_index: torch.Tensor  # [B, K], -1 where a row names fewer than K nodes
    answers: list[str]
    graph_position: torch.Tensor  # [B]: where graph soft tokens are inserted

    @property
    def node_mask(self) -> torch.Tensor:
        return self.node_index >= 0

    def to(self, device) -> GraphBatch:
        move = lambda t: t.to(device) if t is not None else None  # noqa: E731
        return GraphBatch(self.graph.to(device), move(self.input_ids), move(self.attention_mask),
                          move(self.position_ids), move(self.labels), move(self.node_index), self.answers,
                          move(self.graph_position))


class GraphCollator:
    """`collator(list_of_data) -> GraphBatch` for a tokenizer (its chat template when it has one)."""

    def __init__(self, tokenizer, mode: Literal["train", "generate"] = "train", include_graph_text: bool = False,
                 system_prompt: str | None = None, max_prompt_tokens: int | None = None,
                 shots: dict[str, list] | None = None) -> None:
        if mode not in ("train", "generate"):
            raise ValueError(f"mode must be 'train' or 'generate', not {mode!r}")
        self.tokenizer = tokenizer
        self.mode = mode
        self.include_graph_text = include_graph_text
        self.system_prompt = system_prompt
        self.max_prompt_tokens = max_prompt_tokens
        self.shots = shots or {}  # task -> solved examples shown before the question (few-shot prompting)
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        if self.pad_id is None:
            raise ValueError("the tokenizer has neither a pad nor an end-of-sequence token")

    def _user_text(self, data) -> str:
        return f"{data.text}\n{data.question}" if self.include_graph_text else data.question

    def texts(self, data, turns: list[dict] | None = None) -> tuple[str, str]:
        """(prompt, completion): the prompt ends where the model starts answering.

        `turns` continues the conversation after the question (assistant, user, assistant, ..., user), so the
        prompt ends where the model starts its next assistant turn.
        """
        prompt, completion = self._marked_texts(data, turns)
        return prompt.replace(GRAPH_MARK, ""), completion

    def _marked_texts(self, data, turns: list[dict] | None) -> tuple[str, str]:
        """`texts` with GRAPH_MARK where the question's user turn starts."""
        user = GRAPH_MARK + self._user_text(data)
        turns = _checked_turns(turns)
        tok = self.tokenizer
        shots = self.shots.get(getattr(data, "task", None), [])
        if getattr(tok, "chat_template", None):
            # None leaves the template's own default system turn; "" is an empty one (the shortest prompt)
            messages = [{"role": "system", "content": self.system_prompt}] if self.system_prompt is not None else []
            for shot in shots:  # each solved example as an earlier turn of the conversation
                messages += [{"role": "user", "content": self._user_text(shot)},
                             {"role": "assistant", "content": shot.answer}]
            messages.append({"role": "user", "content": user})
            messages += turns
            prompt = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            full = tok.apply_chat_template(messages + [{"role": "assistant", "content": data.answer}],
                                           tokenize=False)
            if prompt.count(GRAPH_MARK) != 1:
                raise ValueError("the chat template does not render the user's message as given; pass a tokenizer "
                                 "with a standard template")
            if not full.startswith(prompt):
                raise ValueError("the chat template renders the assistant turn in a way that does not extend the "
                                 "generation prompt; pass a tokenizer with a standard template")
            return prompt, full[len(prompt):].rstrip("\n")
        solved = "".join(f"Question: {self._user_text(s)}\nAnswer: {s.answer}\n\n" for s in shots)
        # Without a chat template a continued conversation is more Question/Answer pairs: every user turn asks,
        # every assistant turn answers, the same shape the model already sees for the first question.
        later = "".join(f"{t['content']}\n" if t["role"] == "assistant" else f"Question: {t['content']}\nAnswer: "
                        for t in turns)
        return f"{solved}Question: {user}\nAnswer: {later}", data.answer + (tok.eos_token or "")

    def _encode(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def __call__(self, examples: list, turns: list[list[dict]] | None = None) -> GraphBatch:
        """Collate examples; `turns[i]` continues example i's conversation (generation only, see `texts`)."""
        if turns is not None:
            if self.mode != "generate":
                raise ValueError("continued conversations (turns) are for generation; use mode='generate'")
            if len(turns) != len(examples):
                raise ValueError(f"got {len(turns)} conversations for {len(examples)} examples")
        rows, label_rows, marks = [], [], []
        for i, data in enumerate(examples):
            prompt, completion = self._marked_texts(data, None if turns is None else turns[i])
            # The two sides of the mark are tokenised apart so the graph's place is a token boundary; the mark
            # sits after the turn header's newline, where the tokenizer splits anyway.
            before, after = (self._encode(part) for part in prompt.split(GRAPH_MARK))
            prompt_ids, mark = before + after, len(before)
            if self.max_prompt_tokens and len(prompt_ids) > self.max_prompt_tokens:
                mark = max(0, mark - (len(prompt_ids) - self.max_prompt_tokens))
                prompt_ids = prompt_ids[-self.max_prompt_tokens:]  # keep the end: the question and turn marker
            if self.mode == "train":
                answer_ids = self._encode(completion)
                rows.append(prompt_ids + answer_ids)
                label_rows.append([IGNORE] * len(prompt_ids) + answer_ids)
            else:
                rows.append(prompt_ids)
            marks.append(mark)
        width = max(len(r) for r in rows)
        left = self.mode == "generate"
        input_ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        attention_mask = torch.zeros((len(rows), width), dtype=torch.long)
        labels = torch.full((len(rows), width), IGNORE, dtype=torch.long) if label_rows else None
        for i, row in enumerate(rows):
            span = slice(width - len(row), width) if left else slice(0, len(row))
            input_ids[i, span] = torch.tensor(row)
            attention_mask[i, span] = 1
            if labels is not None:
                labels[i, span] = torch.tensor(label_rows[i])
        position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
        graph = Batch.from_data_list(examples)
        offsets = [width - len(r) if left else 0 for r in rows]
        graph_position = torch.tensor([o + m for o, m in zip(offsets, marks, strict=True)], dtype=torch.long)
        return GraphBatch(graph, input_ids, attention_mask, position_ids, labels,
                          self._node_index(examples, graph), [d.answer for d in examples], graph_position)

    @staticmethod
    def _node_index(examples: list, graph: Batch) -> torch.Tensor:
        width = max([len(d.nodes) for d in examples] + [1])
        index = torch.full((len(examples), width), -1, dtype=torch.long)
        for i, data in enumerate(examples):
            if len(data.nodes):
                index[i, : len(data.nodes)] = data.nodes + graph.ptr[i]
        return index


def _checked_turns(turns: list[dict] | None) -> list[dict]:
    """The turns after the question must alternate assistant/user and end with a user turn, so that the prompt
    always ends with the model's next assistant turn."""
    turns = list(turns or [])
    for k, turn in enumerate(turns):
        expected = "assistant" if k % 2 == 0 else "user"
        if not isinstance(turn, dict) or turn.get("role") != expected or not isinstance(turn.get("content"), str):
            raise ValueError(f"turn {k} after the question must be {{'role': '{expected}', 'content': str}}, "
                             f"not {turn!r}")
    if len(turns) % 2:
        raise ValueError("the turns after the question must end with a user turn")
    return turns
