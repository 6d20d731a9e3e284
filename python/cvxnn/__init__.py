"""cvxnn: train neural networks as mathematical programs, from Python.

Estimators with scikit-learn's conventions over cvxnn's Rust library:

- ``MLPRegressor(method=...)``: a ReLU network by any method of cvxnn's training interface
  (sequential convex relaxation, gradient methods, exact training, …);
- ``MLPClassifier``: a ReLU network of class probabilities on the cross-entropy (softmax, or
  logistic for two classes) by the gradient methods;
- ``ConvexReLURegressor`` / ``ConvexReLUClassifier``: two-layer ReLU training as a convex
  program, with a certificate of global optimality (``certificate_``);
- ``Ridge``, ``Lasso``, ``ElasticNet``, ``LogisticRegression``, ``SVC(kernel="linear")``:
  scikit-learn's objectives, solved by interior point;
- ``PerceptronLP``: a separating unit by linear programming, or a Farkas certificate that none
  exists;
- ``compare``: several methods on the same problems, locally or on any executor (Dask, Ray);
- ``run``: any run request (the schema of ``cvxnn train --config``), as the command line runs it;
- ``certify``: how far a two-layer ReLU network trained anywhere (cvxnn, scikit-learn, PyTorch
  weights or ONNX) is from the best one: a proven lower bound on every network's objective.

Every fitted network exports to ONNX (``estimator.to_onnx(path)``).
"""

from . import _core
from ._certify import certify
from ._common import TrainingWarning
from ._compare import compare
from ._linear import SVC, ElasticNet, Lasso, LogisticRegression, PerceptronLP, Ridge
from ._network import ConvexReLUClassifier, ConvexReLURegressor, MLPClassifier, MLPRegressor
from ._request import Trained, run
from ._core import Model, features, method_names, planted_teacher

__version__ = _core.__version__

__all__ = [
    "MLPRegressor",
    "MLPClassifier",
    "ConvexReLURegressor",
    "ConvexReLUClassifier",
    "Ridge",
    "Lasso",
    "ElasticNet",
    "LogisticRegression",
    "SVC",
    "PerceptronLP",
    "compare",
    "run",
    "certify",
    "Trained",
    "Model",
    "method_names",
    "features",
    "planted_teacher",
    "TrainingWarning",
]
