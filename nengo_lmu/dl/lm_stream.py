"""Running the language models of `.language_model` one token at a time.

`recurrent_lm` wraps a trained model: for the LMU model the Legendre memory
becomes the state update ``m <- Ad m + Bd x`` (constant memory per stream)
and the implicit attention and FFNs run on each step; global attention and
the transformer keep a key/value cache that grows by one position per
token. Its next-token distributions equal the parallel model's (tests).
"""

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.dl.compat import backend_name, keras, ops, to_numpy
from nengo_lmu.dl.language_model import LanguageModel, TransformerLanguageModel, check_tokens
from nengo_lmu.validation import check_int, check_positive


def compiled_step(model, step):
    """``step(tokens, position, state)`` compiled for the backend: a
    `tf.function` on TensorFlow, a ``jax.jit`` (``model``'s weights passed
    in through Keras' stateless scope) on JAX, as it is on PyTorch. The
    state keeps its shapes from token to token (key/value caches grow by
    doubling), so it compiles once per cache capacity."""
    name = backend_name()
    if name in ("tensorflow", "tf.keras"):
        import tensorflow as tf

        return tf.function(step, reduce_retracing=True)
    if name != "jax":
        return step
    import jax

    variables = list(model.variables)

    def pure(values, tokens, position, state):
        with keras.StatelessScope(state_mapping=list(zip(variables, values))):
            return step(tokens, position, state)

    jitted = jax.jit(pure)

    def run(tokens, position, state):
        return jitted([v.value for v in variables], tokens, position, state)

    return run


def grown(state, position):
    """``state`` with every key/value cache (the 4-d tensors) doubled in
    capacity where it has no free slot for ``position``."""

    def grow(t):
        if len(t.shape) != 4 or t.shape[1] > position:
            return t
        capacity = t.shape[1]
        while capacity <= position:
            capacity *= 2
        return ops.pad(t, [[0, 0], [0, capacity - t.shape[1]], [0, 0], [0, 0]])

    return tuple(tuple(grow(t) for t in block) for block in state)


class RecurrentLM:
    """Run a trained language model one token at a time (see `recurrent_lm`)."""

    def __init__(self, model):
        if not isinstance(model, LanguageModel):
            raise ValidationError(
                f"must be a model from lmu_language_model or transformer_language_model, "
                f"got {type(model).__name__}",
                attr="model",
            )
        self.model = model
        self.state = None
        self.position = 0
        self._step = compiled_step(model, self._step_graph)

    def reset(self, batch_size=1):
        """Start ``batch_size`` empty streams (zero memory, empty caches)."""
        batch_size = check_int("batch_size", batch_size, self)
        self.batch_size = batch_size
        self.state = tuple(b.initial_state(batch_size) for b in self.model.blocks)
        self.position = 0
        return self

    def _step_graph(self, tokens, position, state):
        model = self.model
        h = model.embedding(tokens)
        if isinstance(model, TransformerLanguageModel):
            h = h + ops.take(model.position_table(), position, axis=0)[None]
        new = []
        for block, s in zip(model.blocks, state):
            h, s = block.step(h, s, position)
            new.append(s)
        return model.head(h), tuple(new)

    def step(self, tokens):
        """Feed one token per stream; return the next-token logits (batch, vocab)."""
        if self.state is None:
            raise ValidationError("call reset(batch_size) first", attr="state", obj=self)
        tokens = np.asarray(tokens).reshape(-1)
        if tokens.shape[0] != self.batch_size:
            raise ValidationError(
                f"must hold one token per stream ({self.batch_size}), got {tokens.shape[0]}",
                attr="tokens",
                obj=self,
            )
        tokens = check_tokens(tokens, self.model.vocab_size)
        max_len = getattr(self.model, "max_len", None)
        if max_len is not None and self.position >= max_len:
            raise ValidationError(
                f"position {self.position} is past the positional table (max_len={max_len})",
                attr="max_len",
                obj=self,
            )
        self.state = grown(self.state, self.position)
        position = ops.convert_to_tensor(self.position, dtype="int32")
        if backend_name() == "torch":
            import torch

            with torch.no_grad():
                logits, self.state = self._step(tokens, position, self.state)
        else:
            logits, self.state = self._step(tokens, position, self.state)
        self.position += 1
        return to_numpy(logits)

    def run(self, tokens):
        """Step through ``tokens`` (batch, n) from a reset; logits (batch, n, vocab)."""
        tokens = np.asarray(tokens)
        self.reset(tokens.shape[0])
        return np.stack([self.step(tokens[:, t]) for t in range(tokens.shape[1])], axis=1)

    def generate(self, prompt, n, temperature=1.0, seed=None):
        """Continue ``prompt`` (a sequence of token ids) by ``n`` sampled tokens.

        ``temperature=0`` takes the most likely token. Returns the ``n`` new
        token ids (numpy int array).
        """
        prompt = np.asarray(prompt, dtype=np.int64).reshape(-1)
        if prompt.size == 0:
            raise ValidationError("must hold at least one token", attr="prompt", obj=self)
        n = check_int("n", n, self, minimum=0)
        if temperature != 0:
            temperature = check_positive("temperature", temperature, self)
        rng = np.random.default_rng(seed)
        self.reset(1)
        for t in prompt:
            logits = self.step([t])[0]
        out = []
        for _ in range(n):
            if temperature == 0:
                tok = int(np.argmax(logits))
            else:
                z = logits.astype(np.float64) / temperature
                pr = np.exp(z - z.max())
                tok = int(rng.choice(len(pr), p=pr / pr.sum()))
            out.append(tok)
            logits = self.step([tok])[0]
        return np.array(out, dtype=np.int64)


def recurrent_lm(model):
    """A token-by-token stepper for a model of this module.

    The LMU model's memory runs as its state update ``m <- Ad m + Bd x``
    (constant memory per stream); global attention and the transformer keep
    a key/value cache that grows by one position per token.

    Examples
    --------
    >>> from nengo_lmu.dl import lmu_language_model
    >>> model = lmu_language_model(257, d=16, n_layers=1, order=8, theta=16, seed=0)
    >>> stream = recurrent_lm(model).reset(1)
    >>> stream.step([65]).shape
    (1, 257)
    """
    return RecurrentLM(model)


__all__ = ["RecurrentLM", "recurrent_lm"]
