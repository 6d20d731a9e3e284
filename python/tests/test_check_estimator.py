"""scikit-learn's own estimator checks, on every estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

import cvxnn

ESTIMATORS = [
    cvxnn.MLPRegressor(),
    cvxnn.MLPRegressor(method="lbfgs"),
    cvxnn.MLPRegressor(method="scr", max_iter=5),
    # 20 sampled gates (the default enumerates small sets and samples 100 gates otherwise):
    # these checks are about the interface, and fit about 50 times each
    cvxnn.ConvexReLURegressor(patterns=20),
    cvxnn.ConvexReLUClassifier(patterns=20),
    cvxnn.Ridge(),
    cvxnn.Lasso(alpha=0.1),
    cvxnn.ElasticNet(alpha=0.1),
    cvxnn.LogisticRegression(),
    cvxnn.SVC(kernel="linear"),
    cvxnn.PerceptronLP(),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
