"""A neural network in NumPy only, small enough to read in one sitting (in the spirit of micrograd).

Introduced in the backpropagation chapter (``chapters/backprop/``): ``gradients_checked.ipynb``
checks every backward pass below against finite differences and TensorFlow, and
``numpy_mlp_mnist.ipynb`` trains :class:`MLP` on MNIST with :func:`train`.

Conventions, the same as the chapter's equations:

- a batch is a 2-D array, one example per row: ``x`` has shape ``(batch, features)``;
- a dense layer stores ``W`` with shape ``(n_out, n_in)`` and ``b`` with shape ``(n_out,)``, and
  computes ``z = x @ W.T + b`` (``z = W x + b`` for one example written as a column);
- the loss is the *mean* over the batch, so every gradient carries a ``1 / batch`` factor;
- ``backward(grad_out)`` receives dL/d(output) and returns dL/d(input), storing dL/dW and dL/db
  in ``layer.grads`` as a side effect. Optimizers move each parameter *against* its gradient.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from book_core.checks import (
    check_class_labels,
    check_int,
    check_ints,
    check_not_none,
    check_number,
)
from book_core.softmax import log_softmax

Params = dict[str, np.ndarray]

__all__ = [
    "MLP",
    "SGD",
    "Adam",
    "Dense",
    "ReLU",
    "Sigmoid",
    "SoftmaxCrossEntropy",
    "evaluate",
    "train",
]


# --------------------------------------------------------------------------------------------
# input checks, shared by the public entry points
# --------------------------------------------------------------------------------------------


def _check_batch(x: np.ndarray, n_features: int, dtype: np.dtype, what: str = "x") -> np.ndarray:
    """Return ``x`` as a finite ``(batch, n_features)`` array of ``dtype``; TypeError if None,
    ValueError if misshaped or not finite."""
    x = np.asarray(check_not_none(what, x, "a 2-D array (batch, features)"))
    if x.ndim != 2:
        raise ValueError(
            f"{what} must be 2-D (batch, features), got shape {x.shape}; "
            "flatten images first, e.g. x.reshape(len(x), -1)."
        )
    if x.shape[1] != n_features:
        raise ValueError(
            f"{what} has {x.shape[1]} features per row, but the layer expects {n_features}."
        )
    if x.shape[0] == 0:
        raise ValueError(f"{what} is an empty batch (0 rows).")
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise ValueError(f"{what} must hold real numbers, got dtype {x.dtype}.")
    x = x.astype(dtype, copy=False)
    if not np.isfinite(x).all():
        raise ValueError(
            f"{what} contains NaN or infinite values; clean or rescale the data first."
        )
    return x


# --------------------------------------------------------------------------------------------
# layers
# --------------------------------------------------------------------------------------------


class Dense:
    """A fully connected layer ``z = x @ W.T + b``.

    ``init="he"`` draws ``W`` from N(0, 2 / n_in), right for ReLU; ``init="glorot"`` draws it
    uniformly from ``±sqrt(6 / (n_in + n_out))``, right for sigmoid and tanh. Biases start at 0.

    Gradients are written in place: ``backward`` overwrites the arrays in ``self.grads``, which
    are allocated once, because the optimiser holds references to them (``MLP.grads``). Replacing
    them with new arrays would leave the optimiser stepping with stale gradients.
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        *,
        rng: np.random.Generator,
        init: str = "he",
        dtype: type | np.dtype = np.float32,
    ) -> None:
        n_in, n_out = check_int("n_in", n_in), check_int("n_out", n_out)
        check_not_none("rng", rng, "a generator such as np.random.default_rng(0)")
        if init == "he":
            w = rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_out, n_in))
        elif init == "glorot":
            limit = np.sqrt(6.0 / (n_in + n_out))
            w = rng.uniform(-limit, limit, size=(n_out, n_in))
        else:
            raise ValueError(f"unknown init {init!r}; use 'he' (ReLU) or 'glorot' (sigmoid/tanh).")
        self.dtype = np.dtype(dtype)
        self.params: Params = {"W": w.astype(self.dtype), "b": np.zeros(n_out, self.dtype)}
        self.grads: Params = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._x: np.ndarray | None = None

    @property
    def n_in(self) -> int:
        return self.params["W"].shape[1]

    @property
    def n_out(self) -> int:
        return self.params["W"].shape[0]

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``(batch, n_in) -> (batch, n_out)``; remembers ``x`` for the backward pass."""
        self._x = x
        return x @ self.params["W"].T + self.params["b"]

    def backward(self, grad_out: np.ndarray, *, need_input_grad: bool = True) -> np.ndarray | None:
        """Store dL/dW ``(n_out, n_in)`` and dL/db ``(n_out,)``; return dL/dx ``(batch, n_in)``.

        The first layer of a network can skip dL/dx (``need_input_grad=False``): nothing uses it,
        and it costs as much as the weight gradient.
        """
        if self._x is None:
            raise RuntimeError("Dense.backward called before forward.")
        np.matmul(grad_out.T, self._x, out=self.grads["W"])  # (n_out, batch) @ (batch, n_in)
        np.sum(grad_out, axis=0, out=self.grads["b"])  # (n_out,)
        return grad_out @ self.params["W"] if need_input_grad else None  # (batch, n_in)


class ReLU:
    """``max(0, z)``, elementwise. Its derivative is 1 where ``z > 0`` and 0 elsewhere."""

    def __init__(self) -> None:
        self.params: Params = {}  # no parameters; the empty dicts keep every layer's interface alike
        self.grads: Params = {}
        self._mask: np.ndarray | None = None

    def forward(self, z: np.ndarray) -> np.ndarray:
        self._mask = z > 0
        return np.maximum(z, 0)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        if self._mask is None:
            raise RuntimeError("ReLU.backward called before forward.")
        return grad_out * self._mask


class Sigmoid:
    """``1 / (1 + exp(-z))``, elementwise. Its derivative is ``s (1 - s)``, at most 1/4."""

    def __init__(self) -> None:
        self.params: Params = {}
        self.grads: Params = {}
        self._s: np.ndarray | None = None

    def forward(self, z: np.ndarray) -> np.ndarray:
        self._s = 0.5 * (1.0 + np.tanh(0.5 * z))  # the same function, without overflow in exp
        return self._s

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        if self._s is None:
            raise RuntimeError("Sigmoid.backward called before forward.")
        return grad_out * self._s * (1.0 - self._s)


class SoftmaxCrossEntropy:
    """Softmax and cross-entropy in one step: mean over the batch of ``-log p[label]``.

    Fused because the pair has a simple gradient with respect to the logits, ``(p - onehot) / batch``,
    while computing them separately would need the full softmax Jacobian and risk ``log(0)``.
    """

    def __init__(self) -> None:
        self._probs: np.ndarray | None = None
        self._labels: np.ndarray | None = None

    @staticmethod
    def log_softmax(logits: np.ndarray) -> np.ndarray:
        """Row-wise ``log softmax``, stable for large logits (the row maximum is subtracted first):
        :func:`book_core.softmax.log_softmax`."""
        return log_softmax(logits, axis=1)

    def forward(self, logits: np.ndarray, labels: np.ndarray) -> float:
        """Mean cross-entropy of ``logits`` ``(batch, classes)`` against ``labels`` ``(batch,)``,
        integers in ``0..classes-1`` (checked by the callers, :meth:`MLP.loss` and :func:`train`)."""
        log_p = self.log_softmax(logits)
        rows = np.arange(len(labels))
        loss = float(-log_p[rows, labels].mean())
        if not np.isfinite(loss):
            raise ValueError("the loss is not finite: training diverged; lower the learning rate.")
        self._probs, self._labels = np.exp(log_p), labels
        return loss

    def backward(self) -> np.ndarray:
        """dL/dlogits = ``(p - onehot(labels)) / batch``, shape ``(batch, classes)``."""
        if self._probs is None or self._labels is None:
            raise RuntimeError("SoftmaxCrossEntropy.backward called before forward.")
        grad = self._probs.copy()
        grad[np.arange(len(self._labels)), self._labels] -= 1
        grad /= len(self._labels)
        return grad


# --------------------------------------------------------------------------------------------
# the network
# --------------------------------------------------------------------------------------------


class MLP:
    """A multilayer perceptron: Dense, activation, Dense, activation, ..., Dense, softmax-CE.

    ``MLP([784, 128, 10], seed=0)`` is the chapter's network: 784 inputs, one hidden layer of 128
    ReLU units, 10 logits. The same ``seed`` always gives the same initial weights.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        *,
        seed: int,
        activation: str = "relu",
        dtype: type | np.dtype = np.float32,
    ) -> None:
        sizes = check_ints(
            "sizes",
            sizes,
            min_length=2,
            item="each layer width in sizes",
            fix="list the input width and at least one layer, e.g. [784, 128, 10]",
        )
        seed = check_int("seed", seed, minimum=0, fix="pass an int such as 0")
        if activation not in ("relu", "sigmoid"):
            raise ValueError(f"unknown activation {activation!r}; use 'relu' or 'sigmoid'.")
        self.sizes = [int(s) for s in sizes]
        self.dtype = np.dtype(dtype)
        rng = np.random.default_rng(seed)
        init = "he" if activation == "relu" else "glorot"
        self.layers: list[Dense | ReLU | Sigmoid] = []
        for i, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:], strict=True)):
            self.layers.append(Dense(n_in, n_out, rng=rng, init=init, dtype=self.dtype))
            if i < len(self.sizes) - 2:
                self.layers.append(ReLU() if activation == "relu" else Sigmoid())
        self.loss_fn = SoftmaxCrossEntropy()

    def dense_layers(self) -> list[Dense]:
        return [layer for layer in self.layers if isinstance(layer, Dense)]

    def params(self) -> Params:
        """Every parameter by name (``"dense0.W"``, ``"dense0.b"``, ...): the arrays themselves."""
        return {
            f"dense{i}.{k}": v
            for i, d in enumerate(self.dense_layers())
            for k, v in d.params.items()
        }

    def grads(self) -> Params:
        """The gradients of the last :meth:`backward`, under the same names as :meth:`params`."""
        return {
            f"dense{i}.{k}": v
            for i, d in enumerate(self.dense_layers())
            for k, v in d.grads.items()
        }

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Logits ``(batch, classes)`` for inputs ``(batch, features)``; checks the input first."""
        return self._forward(_check_batch(x, self.sizes[0], self.dtype))

    def _forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def loss(self, x: np.ndarray, y: np.ndarray) -> float:
        """Forward pass and mean cross-entropy; remembers what :meth:`backward` needs."""
        logits = self.forward(x)
        return self.loss_fn.forward(logits, check_class_labels(y, self.sizes[-1], n=len(logits)))

    def backward(self) -> None:
        """Fill every layer's ``grads`` for the batch of the last :meth:`loss` call."""
        grad = self.loss_fn.backward()
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i]
            if isinstance(layer, Dense):
                grad = layer.backward(grad, need_input_grad=i > 0)
            else:
                grad = layer.backward(grad)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The predicted class of every row of ``x``."""
        return self.forward(x).argmax(axis=1)


# --------------------------------------------------------------------------------------------
# optimizers: each moves the parameters against their gradients, in place
# --------------------------------------------------------------------------------------------


class SGD:
    """Gradient descent, ``w <- w - lr * g``; with momentum ``v <- mu v + g; w <- w - lr * v``."""

    def __init__(self, lr: float = 0.1, momentum: float = 0.0) -> None:
        lr = check_number("lr", lr, above=0, example=0.1)
        momentum = check_number("momentum", momentum, minimum=0, below=1, example=0.9)
        self.lr, self.momentum = lr, momentum
        self._velocity: Params = {}

    def step(self, params: Params, grads: Params) -> None:
        for name, w in params.items():
            g = grads[name]
            if self.momentum:
                v = self._velocity.setdefault(name, np.zeros_like(w))
                v *= self.momentum
                v += g
                g = v
            w -= self.lr * g


class Adam:
    """Adam (Kingma and Ba, 2015, Algorithm 1): momentum on the gradient, scaled per parameter.

    ``m <- b1 m + (1 - b1) g``; ``v <- b2 v + (1 - b2) g**2``; bias-corrected ``m_hat``, ``v_hat``;
    ``w <- w - lr * m_hat / (sqrt(v_hat) + eps)``. Defaults are the paper's (and Keras') except
    ``eps``, which follows Keras (1e-7).
    """

    def __init__(
        self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-7
    ) -> None:
        lr = check_number("lr", lr, above=0, example=1e-3)
        beta1 = check_number("beta1", beta1, minimum=0, below=1, example=0.9)
        beta2 = check_number("beta2", beta2, minimum=0, below=1, example=0.999)
        eps = check_number("eps", eps, above=0, example=1e-7)
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.t = 0
        self._m: Params = {}
        self._v: Params = {}

    def step(self, params: Params, grads: Params) -> None:
        self.t += 1
        # Both bias corrections folded into the step size: the same update, fewer array operations.
        # Python floats, so that float32 parameters stay float32 (a NumPy float64 scalar would not).
        lr_t = float(self.lr * np.sqrt(1 - self.beta2**self.t) / (1 - self.beta1**self.t))
        eps_t = float(self.eps * np.sqrt(1 - self.beta2**self.t))
        for name, w in params.items():
            g = grads[name]
            m = self._m.setdefault(name, np.zeros_like(w))
            v = self._v.setdefault(name, np.zeros_like(w))
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * (g * g)
            w -= (lr_t * m) / (np.sqrt(v) + eps_t)


# --------------------------------------------------------------------------------------------
# training and evaluation
# --------------------------------------------------------------------------------------------


def _check_model(model: MLP) -> None:
    if not isinstance(model, MLP):
        raise TypeError(
            f"model must be an MLP, got {type(model).__name__}; pass e.g. "
            "MLP([784, 128, 10], seed=0)."
        )


def evaluate(
    model: MLP, x: np.ndarray, y: np.ndarray, *, batch_size: int = 10_000
) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on ``(x, y)``, computed in batches to bound memory."""
    _check_model(model)
    check_int("batch_size", batch_size, fix="pass an int such as 10000")
    x = _check_batch(x, model.sizes[0], model.dtype)
    y = check_class_labels(y, model.sizes[-1], n=len(x))
    total_loss, correct = 0.0, 0
    for start in range(0, len(x), batch_size):
        xb, yb = x[start : start + batch_size], y[start : start + batch_size]
        logits = model._forward(xb)
        total_loss += model.loss_fn.forward(logits, yb) * len(xb)
        correct += int((logits.argmax(axis=1) == yb).sum())
    return total_loss / len(x), correct / len(x)


def train(
    model: MLP,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    optimizer: SGD | Adam,
    seed: int,
    validation_data: tuple[np.ndarray, np.ndarray] | None = None,
    blas_threads: int | None = 1,
) -> dict[str, list[float]]:
    """Minibatch training: each epoch shuffles the rows (with ``seed``), then one step per batch.

    ``blas_threads`` caps the threads NumPy's BLAS may use while training (None: no cap). The
    default is one: this network's matrix products are too small to split well, and BLAS threads
    that spin-wait for each other on a busy machine can make an epoch several times slower. One
    thread also makes the result independent of the machine's core count.

    Returns a Keras-style history: ``loss`` and ``accuracy`` (means over the epoch's batches),
    ``val_loss`` and ``val_accuracy`` when ``validation_data`` is given, and ``seconds`` (wall
    time of each epoch's training, without the validation pass).
    """
    _check_model(model)
    check_int("epochs", epochs)
    check_int("batch_size", batch_size, fix="pass an int such as 32")
    check_int("seed", seed, minimum=0, fix="pass an int such as 0")
    if not (hasattr(optimizer, "step") and callable(optimizer.step)):
        raise TypeError(
            f"optimizer must be an optimiser such as SGD(lr=0.1) or Adam(), got {optimizer!r}."
        )
    if blas_threads is not None:
        check_int("blas_threads", blas_threads, fix="pass an int such as 1, or None for no cap")
    x = _check_batch(x, model.sizes[0], model.dtype)
    y = check_class_labels(y, model.sizes[-1], n=len(x))
    rng = np.random.default_rng(seed)
    history: dict[str, list[float]] = {"loss": [], "accuracy": [], "seconds": []}
    if validation_data is not None:
        history.update(val_loss=[], val_accuracy=[])
    params, grads = model.params(), model.grads()
    with threadpool_limits(limits=blas_threads, user_api="blas"):
        for _ in range(epochs):
            start = time.perf_counter()
            order = rng.permutation(len(x))
            total_loss, correct = 0.0, 0
            for i in range(0, len(x), batch_size):
                idx = order[i : i + batch_size]
                xb, yb = x[idx], y[idx]
                logits = model._forward(xb)
                total_loss += model.loss_fn.forward(logits, yb) * len(idx)
                correct += int((logits.argmax(axis=1) == yb).sum())
                model.backward()
                optimizer.step(params, grads)
            history["seconds"].append(time.perf_counter() - start)
            history["loss"].append(total_loss / len(x))
            history["accuracy"].append(correct / len(x))
            if validation_data is not None:
                val_loss, val_acc = evaluate(model, *validation_data)
                history["val_loss"].append(val_loss)
                history["val_accuracy"].append(val_acc)
    return history
