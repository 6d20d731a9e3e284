"""Networks as scikit-learn estimators: ``MLPRegressor`` for every method of cvxnn's training
interface, and the convex two-layer model as ``ConvexReLURegressor`` / ``ConvexReLUClassifier``
with its certificate. All training is cvxnn's (Rust, GIL released); Ctrl-C stops a run through the
training interface and raises ``KeyboardInterrupt`` after the estimator has kept the partial
result."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from . import _core, _request
from ._common import Labels, inputs, inputs_and_targets, sample_weights, seed_of, warn_run

# The parameters that become method settings (_request.NETWORK_KEYS says which keys).
_NETWORK_SETTINGS = tuple(_request.NETWORK_KEYS)
_SPELLING = _request.spelling()


def _early(estimator, keyword):
    """``keyword`` with early stopping's settings when ``early_stopping`` is on (and without them
    otherwise: ``validation_fraction`` and ``n_iter_no_change`` only count with it)."""
    on = estimator.early_stopping
    if not isinstance(on, (bool, np.bool_)):
        raise ValueError(f"early_stopping must be True or False, got {on!r}")
    keyword = dict(keyword)
    keyword["validation_fraction"] = estimator.validation_fraction if on else None
    keyword["n_iter_no_change"] = estimator.n_iter_no_change if on else None
    return keyword


def _passes(estimator):
    """Whether ``partial_fit`` is offered: with the mini-batch methods, as scikit-learn offers it
    with its stochastic solvers."""
    return estimator.method in ("sgd", "adam")


class _Network(BaseEstimator):
    """Fitting, prediction and export shared by the network estimators: the parameters become
    one run request (the schema of ``cvxnn train --config``), which the library runs."""

    def _request(self, X, Y, method, hidden, output, keyword, init="random", init_scheme=None):
        """The run request of a fit on X (N × d) and Y (N × k)."""
        start = {"init": init}
        if init_scheme is not None:
            start["scheme"] = init_scheme
        request = {
            "method": method,
            "data": {"arrays": "numpy arrays"},
            "arch": "-".join(str(w) for w in [X.shape[1], *hidden, Y.shape[1]]),
            "output": output,
            "seed": seed_of(self.random_state),
            "standardize": bool(self.standardize),
            "start": start,
        }
        if self.time_limit is not None:
            request["time_limit"] = _request._plain("time_limit", self.time_limit)
        n_jobs = getattr(self, "n_jobs", None)
        if n_jobs is not None and n_jobs != -1:
            # every kernel's threads (scikit-learn's -1, every core, is cvxnn's default)
            request["threads"] = _request._plain("n_jobs", n_jobs)
        request.update(_request.settings(method, keyword))
        return request

    def _train(
        self, X, Y, method, hidden, output, keyword, init="random", init_scheme=None,
        skip_warning=None, start=None, weights=None,
    ):
        input_names = [str(c) for c in getattr(self, "feature_names_in_", [])] or None
        try:
            request = self._request(X, Y, method, hidden, output, keyword, init, init_scheme)
            model, record, raised = _core.run(
                _request.dumps(request), X, Y, input_names=input_names, start=start,
                sample_weight=weights,
            )
        except ValueError as e:
            raise _request.respell(e, _request.spelling_of(keyword, _SPELLING)) from None
        if record is None:
            # Ctrl-C, and the run did not stop within the grace to hand back a partial result
            raised.estimator = self
            raise raised
        self._run_record = record
        self.model_ = model
        self.n_iter_ = record.iterations
        self.loss_ = record.loss
        if model is not None and isinstance(self, RegressorMixin) and self.standardize:
            # the run's figure is on the standardised targets; loss_ is in the data's units
            # (the model undoes the standardisation on its outputs)
            R = (np.asarray(model.predict(X)).reshape(Y.shape) - Y) ** 2
            w = np.ones(len(Y)) if weights is None else np.asarray(weights, dtype=float)
            self.loss_ = float(w @ R.mean(axis=1) / w.sum())
        self._objective = record.objective
        self.stop_reason_ = record.stop_reason
        if model is not None:
            self.coefs_ = [np.asarray(w, dtype=float).T for w, _ in model.layers]
            self.intercepts_ = [np.asarray(b, dtype=float) for _, b in model.layers]
        if raised is not None:
            raised.estimator = self
            raise raised
        warn_run([_request.respell_text(w, _SPELLING) for w in record.warnings],
                 skip=skip_warning)
        if model is None:
            certificate = record.certificate()
            raise RuntimeError(
                f"the {method} run ended {self.stop_reason_} without a network"
                + (f": {certificate}" if certificate else "")
            )
        return self

    @property
    def run_(self):
        """The run's record: figures, stop reason, each stage's trace, certificate, warnings and
        the resolved request (a dict, made from the Rust record on first read: a long trace costs
        milliseconds to convert)."""
        record = self.__dict__.get("_run_record")
        if record is None:
            raise AttributeError(
                f"This {type(self).__name__} instance is not fitted yet: it has no run_"
            )
        if not isinstance(record, dict):
            record = record.to_dict()
            self._run_record = record
        return record

    def __getstate__(self):
        # Pickles hold the record as its dict (the Rust record does not pickle).
        state = dict(super().__getstate__())
        if "_run_record" in state:
            state["_run_record"] = self.run_
        return state

    def _outputs(self, X):
        check_is_fitted(self, "model_")
        X = inputs(self, X, reset=False)
        return self.model_.predict(X)

    def to_onnx(self, path, float32=None):
        """Writes the fitted network as an ONNX file (opset 13): input ``x`` (N × features),
        output ``y`` (N × outputs), the standardisation included; float32 values if ``float32``
        is true, float64 if false, the network's own precision if None. For a classifier the
        output is its decision function."""
        check_is_fitted(self, "model_")
        self.model_.save_onnx(str(path), float32)
        return path


class _Regression:
    """One output gives 1-D predictions (for y of shape N or N × 1, as scikit-learn's
    ``MLPRegressor``), k outputs N × k."""

    def _regression_targets(self, X, y):
        X, y = inputs_and_targets(self, X, y, multi_output=True)
        return X, np.ascontiguousarray(y.reshape(len(y), -1), dtype=np.float64)

    def predict(self, X):
        """The network's outputs for each row of X, in the targets' units."""
        Y = self._outputs(X)
        return Y[:, 0] if Y.shape[1] == 1 else Y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


class MLPRegressor(_Regression, RegressorMixin, _Network):
    """A ReLU network trained by any method of cvxnn's training interface.

    Parameters
    ----------
    method : str, default="adam"
        ``scr`` (sequential convex relaxation), ``gd``, ``sgd``, ``adam``, ``lbfgs``, ``lm``
        (Levenberg–Marquardt), ``scr+lbfgs``, ``milp`` (exact training, when cvxnn was built
        with HiGHS) or ``convex``; ``cvxnn.method_names()`` lists them.
    hidden_layer_sizes : tuple of int, default=(8,)
        Widths of the hidden layers.
    output_activation : {"linear", "relu"}, default="linear"
    max_iter, tol : the method's iteration cap and tolerance (None: the method's default; for
        ``scr+lbfgs`` they are SCR's, and ``lbfgs_max_iter`` is L-BFGS's).
    weight_decay : float, optional
        β of ``‖f(X) − Y‖²/(2N) + (β/2)·Σ w²`` for the gradient methods (not scikit-learn's
        ``alpha``, which is scaled by the sample count) and the convex method (None: 1e-3).
    learning_rate_init, batch_size, momentum, beta_1, beta_2, epsilon : gradient-method settings,
        as in scikit-learn's ``MLPRegressor`` (None: cvxnn's defaults).
    scr_lambda, scr_mu, extrapolation : SCR's penalty weights λ, μ (one value, or one per
        hidden layer) and its extrapolation β.
    output_tol : float, optional
        Stop when the relative output error ``‖f(X) − Y‖/‖Y‖`` reaches it (SCR, gradient methods).
    weight_bound : float, optional
        The MILP's bound B on the first-layer weights.
    patterns, max_patterns : the convex method's activation patterns (as for
        ``ConvexReLURegressor``; None: ``auto``) and enumeration cap (None: 20 000).
    init : {"random", "zero"}, default="random"
    init_scheme : {"gaussian", "he", "glorot"}, optional
        The random start's scheme (None: the method's own).
    warm_start : bool, default=False
        Start ``fit`` from the current ``coefs_`` and ``intercepts_`` (the last fit's, or set by
        hand with the right shapes).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the samples (seeded) and stop when their loss has not
        improved by 1e-4 for ``n_iter_no_change`` epochs, keeping the best network on them (the
        gradient methods but Levenberg–Marquardt). scikit-learn's watches the validation score.
    standardize : bool, default=False
        Train on standardised inputs and targets; the model keeps the map, so ``predict`` is in
        the data's units (``coefs_`` are then in standardised units).
    time_limit : float, optional
        Seconds; the run keeps the best it had when it runs out.
    random_state : int, RandomState or None, default=None
        Seeds the start and the mini-batch order (None: seed 0; every run is reproducible).
    n_jobs : int, default=None
        Threads of every kernel of the fit (the request's ``threads``: the gradient passes,
        SCR's ADMM, the convex solvers); None or -1: every core. The trained network does not
        depend on it.
    precision : {"f64", "f32"}, default=None
        The gradient methods' precision (None: f64). ``"f32"`` runs the passes in float32 (twice
        the products' rate; master parameters and optimiser state stay float64) and gives a
        float32 network, which ``to_onnx`` writes as a float32 graph.

    A setting the chosen method does not read is refused at ``fit`` (it would be ignored).

    Attributes
    ----------
    model_ : cvxnn.Model
        The network with its columns and standardisation (``to_json``, ``save_onnx``).
    coefs_, intercepts_ : lists of arrays, layer by layer (``coefs_[i]`` is inputs × outputs).
    run_ : dict
        The run's record: figures, stop reason, each stage's trace, certificate, warnings, and
        ``request``, the run request with every default filled in (``cvxnn.run(run_["request"],
        X, y)`` trains the same network again).
    n_iter_, loss_, stop_reason_ : the run's iterations, final mean squared error (in the
        data's units, also with ``standardize``; weighted by ``sample_weight`` when given) and
        why it ended.
    """

    def __init__(
        self,
        method="adam",
        hidden_layer_sizes=(8,),
        output_activation="linear",
        max_iter=None,
        tol=None,
        weight_decay=None,
        learning_rate_init=None,
        batch_size=None,
        momentum=None,
        beta_1=None,
        beta_2=None,
        epsilon=None,
        lbfgs_max_iter=None,
        scr_lambda=None,
        scr_mu=None,
        extrapolation=None,
        output_tol=None,
        weight_bound=None,
        patterns=None,
        max_patterns=None,
        init="random",
        init_scheme=None,
        warm_start=False,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        standardize=False,
        time_limit=None,
        random_state=None,
        n_jobs=None,
        precision=None,
    ):
        self.method = method
        self.hidden_layer_sizes = hidden_layer_sizes
        self.output_activation = output_activation
        self.max_iter = max_iter
        self.tol = tol
        self.weight_decay = weight_decay
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.momentum = momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.lbfgs_max_iter = lbfgs_max_iter
        self.scr_lambda = scr_lambda
        self.scr_mu = scr_mu
        self.extrapolation = extrapolation
        self.output_tol = output_tol
        self.weight_bound = weight_bound
        self.patterns = patterns
        self.max_patterns = max_patterns
        self.init = init
        self.init_scheme = init_scheme
        self.warm_start = warm_start
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.standardize = standardize
        self.time_limit = time_limit
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.precision = precision

    def fit(self, X, y, sample_weight=None):
        """Trains the network on X (N × features) and y (N, or N × outputs); ``sample_weight``
        (N) weighs each sample's loss, ``Σ w_i ℓ_i / Σ w_i`` (the gradient methods; the others
        refuse it)."""
        X, Y = self._regression_targets(X, y)
        weights = sample_weights(sample_weight, X)
        hidden = _hidden(self.hidden_layer_sizes)
        if not isinstance(self.method, str):
            raise ValueError(f"method must be a method's name, got {self.method!r}")
        start = None
        if self.warm_start and hasattr(self, "coefs_"):
            start = _layers(self.coefs_, self.intercepts_)
        return self._train(
            X,
            Y,
            self.method,
            hidden,
            self.output_activation,
            _early(self, {n: getattr(self, n) for n in _NETWORK_SETTINGS if hasattr(self, n)}),
            init=self.init,
            init_scheme=None if start else self.init_scheme,
            start=start,
            weights=weights,
        )

    @available_if(_passes)
    def partial_fit(self, X, y, sample_weight=None):
        """One pass over X and y with ``sgd`` or ``adam`` (⌈N / batch_size⌉ steps) from the
        current network (a random start on the first call). Each call starts the optimiser
        afresh: momentum and Adam's moments are not carried from call to call (scikit-learn
        carries them)."""
        X, Y = self._regression_targets(X, y)
        _same_features(self, X)
        keyword = {n: getattr(self, n) for n in _NETWORK_SETTINGS if hasattr(self, n)}
        keyword["validation_fraction"] = keyword["n_iter_no_change"] = None
        keyword["max_iter"] = _one_pass(self.method, self.batch_size, len(X))
        keyword["lbfgs_max_iter"] = None
        start = _layers(self.coefs_, self.intercepts_) if hasattr(self, "coefs_") else None
        return self._train(
            X, Y, self.method, _hidden(self.hidden_layer_sizes), self.output_activation,
            keyword, init=self.init, init_scheme=None if start else self.init_scheme,
            start=start, weights=sample_weights(sample_weight, X),
        )


def _same_features(estimator, X):
    """A later ``partial_fit`` gets the features of the network it continues (scikit-learn's
    message)."""
    if hasattr(estimator, "coefs_") and estimator.coefs_[0].shape[0] != X.shape[1]:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(estimator).__name__} is expecting "
            f"{estimator.coefs_[0].shape[0]} features as input"
        )


def _one_pass(method, batch_size, n):
    """The steps of one pass over n samples (``partial_fit``): ⌈n / batch⌉ mini-batches (sgd's
    default batch 32, adam's the full batch)."""
    if method not in ("sgd", "adam"):
        raise ValueError(
            f"partial_fit needs method 'sgd' or 'adam' (one pass of mini-batches), got {method!r}"
        )
    batch = batch_size if batch_size is not None else (32 if method == "sgd" else n)
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    return -(-n // min(int(batch), n))


def _layers(coefs, intercepts):
    """scikit-learn-oriented layers as the (W outputs × inputs, b) pairs a run starts from."""
    return [
        (np.ascontiguousarray(np.asarray(w, dtype=np.float64).T), [float(v) for v in b])
        for w, b in zip(coefs, intercepts)
    ]


def _hidden(sizes):
    if isinstance(sizes, (int, np.integer)):
        sizes = (sizes,)
    sizes = tuple(sizes)
    if not sizes or any(not isinstance(h, (int, np.integer)) or h < 1 for h in sizes):
        raise ValueError(f"hidden_layer_sizes must be positive ints, got {sizes!r}")
    return [int(h) for h in sizes]


class _Convex(_Network):
    """The convex reformulation of two-layer ReLU training with weight decay β."""

    def _fit_convex(self, X, Y, loss, weights=None):
        keyword = {
            n: getattr(self, n)
            for n in ("max_iter", "tol", "weight_decay", "patterns", "max_patterns")
        }
        keyword["loss"] = loss
        # The hidden width is the solution's: the program decides how many units it needs. The
        # training interface takes an architecture, so a width of 1 stands in, and its warning
        # that the optimum is wider than the architecture's (meant for `--arch`) does not apply.
        self._train(X, Y, "convex", [1], "linear", keyword, skip_warning="the optimum has ",
                    weights=weights)
        certificate = self._run_record.certificate()
        self.certificate_ = certificate
        self.objective_ = certificate["objective"]
        self.n_hidden_ = certificate["units"]
        return self


_CONVEX_DOC = """
    Parameters
    ----------
    weight_decay : float, default=1e-3
        β of ``(1/N) Σ ℓ(f(x_i), y_i) + (β/2)(‖W₁‖² + ‖b₁‖² + ‖W₂‖²)``.
    patterns : "auto", "all", "generate" or int, default="auto"
        The activation patterns of the convex program: ``all`` enumerates them (the optimum is
        then global over every two-layer ReLU network of any width; refused when there may be
        more than 20 000), an int samples that many gates (the optimum of a restricted model),
        ``generate`` adds patterns by column generation until a branch-and-bound pricer proves
        no unit direction violates the dual constraint (a global bound in any dimension, whose
        proof grows with it), ``auto`` enumerates up to 1 000 patterns (about a second) and
        samples 100 gates otherwise.
    max_patterns : int, optional
        ``all`` refuses data that may have more patterns than this (None: 20 000).
    max_iter, tol : the solver's iteration cap and the relative duality gap to reach.
    standardize : bool, default=False
        Standardise the inputs (and a regressor's targets); the certificate is then about the
        standardised data.
    time_limit : float, optional
    random_state : int, RandomState or None
        Seeds the sampled gates.

    Attributes
    ----------
    certificate_ : dict
        ``objective`` (the network's), ``dual_bound`` (below every value of the program),
        ``rel_gap``, ``certified``, ``scope`` (``global``: below every two-layer network;
        ``global-per-output``: several outputs, below every network whose hidden units each
        feed one output, with ``shared_bound`` below every network; ``restricted``),
        ``units``, ….
    objective_ : float
        The fitted network's objective.
    n_hidden_ : int
        Hidden units of the network (the program's non-zero groups).
    model_, coefs_, intercepts_, run_, n_iter_, stop_reason_ : as for ``MLPRegressor``.
"""


class ConvexReLURegressor(_Regression, RegressorMixin, _Convex):
    __doc__ = (
        "Two-layer ReLU regression with weight decay, trained as the equivalent convex program "
        "(Pilanci & Ergen): the global optimum with a certificate.\n" + _CONVEX_DOC
    )

    def __init__(
        self,
        weight_decay=1e-3,
        patterns="auto",
        max_patterns=None,
        max_iter=None,
        tol=None,
        standardize=False,
        time_limit=None,
        random_state=None,
    ):
        self.weight_decay = weight_decay
        self.patterns = patterns
        self.max_patterns = max_patterns
        self.max_iter = max_iter
        self.tol = tol
        self.standardize = standardize
        self.time_limit = time_limit
        self.random_state = random_state

    def fit(self, X, y, sample_weight=None):
        """Solves the program on X (N × features) and y (N, or N × outputs); ``sample_weight``
        (N) weighs each sample's squared error, ``Σ w_i (f(x_i) − y_i)² / (2 Σ w)``: the program
        (and its certificate) of the rows repeated as often as their integer weight. Not with
        ``patterns="generate"``."""
        X, Y = self._regression_targets(X, y)
        return self._fit_convex(X, Y, "squared", sample_weights(sample_weight, X))


class ConvexReLUClassifier(Labels, ClassifierMixin, _Convex):
    __doc__ = (
        "Two-layer ReLU classification with weight decay as a convex program: the logistic "
        "(or hinge) loss of the scores, one-vs-rest for more than two classes.\n"
        + _CONVEX_DOC.replace(
            "    max_iter, tol",
            "    loss : {\"logistic\", \"hinge\"}, default=\"logistic\"\n    max_iter, tol",
        )
    )

    def __init__(
        self,
        loss="logistic",
        weight_decay=1e-3,
        patterns="auto",
        max_patterns=None,
        max_iter=None,
        tol=None,
        standardize=False,
        time_limit=None,
        random_state=None,
    ):
        self.loss = loss
        self.weight_decay = weight_decay
        self.patterns = patterns
        self.max_patterns = max_patterns
        self.max_iter = max_iter
        self.tol = tol
        self.standardize = standardize
        self.time_limit = time_limit
        self.random_state = random_state

    def fit(self, X, y, sample_weight=None):
        """Solves the program on X (N × features) and the class labels y (N); ``sample_weight``
        (N) weighs each sample's loss, ``Σ w_i ℓ(f(x_i), y_i) / Σ w``: the program (and its
        certificate) of the rows repeated as often as their integer weight. Not with
        ``patterns="generate"``."""
        X, codes = self._classes(X, y)
        if self.loss not in ("logistic", "hinge"):
            raise ValueError(f"loss must be 'logistic' or 'hinge', got {self.loss!r}")
        weights = sample_weights(sample_weight, X)
        k = len(self.classes_)
        if k == 2:
            Y = np.where(codes == 1, 1.0, -1.0).reshape(-1, 1)
        else:
            Y = np.where(codes[:, None] == np.arange(k)[None, :], 1.0, -1.0)
        return self._fit_convex(X, np.ascontiguousarray(Y), self.loss, weights)

    def decision_function(self, X):
        """The scores: N values for two classes (positive: ``classes_[1]``), else N × classes."""
        S = self._outputs(X)
        return S[:, 0] if len(self.classes_) == 2 else S

    def _logistic(self):
        return self.loss == "logistic"

    @available_if(_logistic)
    def predict_proba(self, X):
        """Class probabilities by the logistic link of the scores the logistic loss was fitted
        on: ``σ(s)`` for two classes; for more, each class's ``σ(s_k)`` against the rest,
        normalised to sum to 1 (scikit-learn's one-vs-rest ``LogisticRegression`` does the
        same). Only with ``loss="logistic"``: the hinge loss's scores are no log-odds."""
        S = np.atleast_1d(self._outputs(X))
        P = 1.0 / (1.0 + np.exp(-S))
        if len(self.classes_) == 2:
            return np.column_stack([1.0 - P[:, 0], P[:, 0]])
        return P / P.sum(axis=1, keepdims=True)

    @available_if(_logistic)
    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))


class MLPClassifier(Labels, ClassifierMixin, _Network):
    """A ReLU network of class probabilities trained on the cross-entropy by cvxnn's gradient
    methods: one logistic output for two classes, a softmax over the classes for more — the
    network and objective of scikit-learn's ``MLPClassifier`` (ReLU hidden layers).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
    method : {"adam", "sgd", "gd", "lbfgs"}, default="adam"
        The optimiser (scikit-learn's ``solver``; ``gd`` is full-batch gradient descent).
    alpha : float, default=1e-4
        The ℓ₂ penalty as scikit-learn scales it: the objective is
        ``CE + (alpha / (2N)) Σ‖W‖²`` over the weights (biases free), N the training samples.
    max_iter : int, optional
        Iterations (lbfgs) or steps, one mini-batch each (adam, sgd, gd); None: cvxnn's
        defaults (lbfgs 2 000; adam 5 000; sgd 5 000; gd 20 000). Not epochs, as scikit-learn's.
    tol : float, optional
        Stop when the gradient's Euclidean norm reaches it (None: 1e-12).
    learning_rate_init, batch_size, momentum, beta_1, beta_2, epsilon : as scikit-learn's
        (None: cvxnn's defaults: learning rate 0.01 for adam and sgd, 0.1 for gd; adam on the
        full batch, sgd 32).
    init_scheme : {"glorot", "he", "gaussian"}, default="glorot"
        The random start (Glorot's scale, as scikit-learn's; drawn from cvxnn's seeded
        generator, so not scikit-learn's numbers).
    warm_start : bool, default=False
        Start ``fit`` from the current ``coefs_`` and ``intercepts_`` (those of the last fit, or
        set by hand with the right shapes) instead of a random draw; the classes must be the
        same.
    early_stopping, validation_fraction, n_iter_no_change : as ``MLPRegressor``'s: the
        held-out samples' cross-entropy, not scikit-learn's accuracy, is watched.
    standardize : bool, default=False
        Train on standardised inputs (the model keeps the map).
    time_limit : float, optional
        Seconds; the run keeps the network it had when it runs out.
    random_state : int, RandomState or None, default=None
        Seeds the start and the mini-batch order (None: seed 0).
    n_jobs : int, default=None
        Threads of each pass over the samples; None or -1: every core. The trained network does
        not depend on it.
    precision : {"f64", "f32"}, default=None
        As ``MLPRegressor``'s: float32 passes and a float32 network with ``"f32"``.

    Attributes
    ----------
    classes_ : array of the class labels.
    coefs_, intercepts_ : lists of arrays, layer by layer (``coefs_[i]`` is inputs × outputs).
    loss_ : float
        The objective at the fitted network (mean cross-entropy plus the penalty), as
        scikit-learn's ``loss_``.
    n_iter_, stop_reason_, model_, run_ : as for ``MLPRegressor``; ``model_.predict`` gives the
        class probabilities (one column for two classes: ``classes_[1]``'s).
    """

    _METHODS = ("adam", "sgd", "gd", "lbfgs")

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        method="adam",
        alpha=1e-4,
        max_iter=None,
        tol=None,
        learning_rate_init=None,
        batch_size=None,
        momentum=None,
        beta_1=None,
        beta_2=None,
        epsilon=None,
        init_scheme="glorot",
        warm_start=False,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        standardize=False,
        time_limit=None,
        random_state=None,
        n_jobs=None,
        precision=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.method = method
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.momentum = momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.init_scheme = init_scheme
        self.warm_start = warm_start
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.standardize = standardize
        self.time_limit = time_limit
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.precision = precision

    def fit(self, X, y, sample_weight=None):
        """Trains the network on X (N × features) and the class labels y (N); ``sample_weight``
        (N) weighs each sample's cross-entropy, as scikit-learn's: ``Σ w_i CE_i / Σ w_i +
        alpha/(2 Σ w_i) Σ‖W‖²``."""
        previous = getattr(self, "classes_", None)
        X, codes = self._classes(X, y)
        start = self._warm_start(previous)
        return self._fit_codes(X, codes, self.max_iter, start, sample_weights(sample_weight, X))

    def _warm_start(self, previous):
        """The current layers as the start of a warm-started fit, or None."""
        if not self.warm_start or not hasattr(self, "coefs_"):
            return None
        if previous is not None and not np.array_equal(previous, self.classes_):
            raise ValueError(
                "warm_start needs the classes of the previous fit: "
                f"{list(previous)} before, {list(self.classes_)} now"
            )
        return _layers(self.coefs_, self.intercepts_)

    @available_if(_passes)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One pass over X and y with ``sgd`` or ``adam`` (⌈N / batch_size⌉ steps) from the
        current network (a random start on the first call, which must give every class in
        ``classes``). Each call starts the optimiser afresh: momentum and Adam's moments are not
        carried from call to call (scikit-learn carries them)."""
        first = not hasattr(self, "coefs_")
        if first:
            if classes is None:
                raise ValueError("classes must be given on the first call to partial_fit")
            self.classes_ = np.unique(np.asarray(classes))
            if len(self.classes_) < 2:
                raise ValueError("partial_fit needs at least 2 classes in classes")
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"classes {list(np.unique(classes))} differ from the first call's "
                f"{list(self.classes_)}"
            )
        classes_ = self.classes_
        X, y = inputs_and_targets(self, X, y, multi_output=False, y_numeric=False)
        _same_features(self, X)
        unknown = np.setdiff1d(np.unique(y), classes_)
        if len(unknown):
            raise ValueError(f"y has classes {list(unknown)} not in classes {list(classes_)}")
        codes = np.searchsorted(classes_, y)
        start = None if first else _layers(self.coefs_, self.intercepts_)
        steps = _one_pass(self.method, self.batch_size, len(X))
        return self._fit_codes(
            X, codes, steps, start, sample_weights(sample_weight, X), early=False
        )

    def _fit_codes(self, X, codes, max_iter, start, weights=None, early=True):
        if self.method not in self._METHODS:
            raise ValueError(
                f"method must be one of {', '.join(self._METHODS)} (the gradient methods train "
                f"the cross-entropy), got {self.method!r}"
            )
        alpha = _request._plain("alpha", self.alpha)
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or alpha < 0:
            raise ValueError(f"alpha must be a finite number ≥ 0, got {self.alpha!r}")
        k = len(self.classes_)
        if k == 2:
            Y = np.where(codes == 1, 1.0, -1.0).reshape(-1, 1)
        else:
            Y = np.where(codes[:, None] == np.arange(k)[None, :], 1.0, -1.0)
        keyword = {
            "max_iter": max_iter,
            "tol": self.tol,
            # scikit-learn divides the penalty by the samples' total weight
            "weight_decay": alpha / (len(X) if weights is None else sum(weights)),
            "learning_rate_init": self.learning_rate_init,
            "batch_size": self.batch_size,
            "momentum": self.momentum,
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "loss": "cross-entropy",
            "precision": self.precision,
        }
        keyword = _early(self, keyword) if early else keyword
        self._train(
            X,
            np.ascontiguousarray(Y),
            self.method,
            _hidden(self.hidden_layer_sizes),
            "linear",
            keyword,
            init_scheme=None if start is not None else self.init_scheme,
            start=start,
            weights=weights,
        )
        self.loss_ = self._objective
        return self

    def predict_proba(self, X):
        """The class probabilities of each row of X (N × classes, in ``classes_``' order)."""
        P = self._outputs(X)
        if P.shape[1] == 1:
            return np.column_stack([1.0 - P[:, 0], P[:, 0]])
        return P

    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))

    def predict(self, X):
        """The most probable class of each row of X."""
        P = self.predict_proba(X)
        return self.classes_[np.argmax(P, axis=1)]

    def to_onnx(self, path, float32=None):
        """Writes the fitted network as an ONNX file (opset 13): input ``x`` (N × features),
        output ``y``, the class probabilities (N × 1 through a ``Sigmoid`` for two classes, the
        positive class's; else N × classes through a ``Softmax``)."""
        return super().to_onnx(path, float32)
