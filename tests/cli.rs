//! The command line end to end: bad input gives a clear error and a non-zero exit, never a panic.

mod binary;

use binary::{assert_clean_failure, cvxnn, succeed, teacher_file, tmp};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A teacher model and its data, written by `cvxnn generate teacher`.
fn teacher_files(tag: &str) -> (PathBuf, PathBuf) {
    let data = tmp(&format!("{tag}-teacher.csv"), "");
    let model = tmp(&format!("{tag}-teacher.json"), "");
    succeed(&[
        "generate",
        "teacher",
        "--arch",
        "3-3-2",
        "--n",
        "25",
        "--seed",
        "4",
        "--out",
        data.to_str().unwrap(),
        "--model-out",
        model.to_str().unwrap(),
    ]);
    (data, model)
}

/// `cvxnn eval --json` of a model on a data file.
fn eval_json(model: &Path, data: &Path) -> serde_json::Value {
    let out = succeed(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--json",
    ]);
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn eval_of_the_teacher_on_its_own_data_is_exact() {
    let (data, model) = teacher_files("t1");
    let v = eval_json(&model, &data);
    assert_eq!(v["n_samples"], 25);
    assert!(v["output_error"].as_f64().unwrap() < 1e-15, "{v}");
}

#[test]
fn malformed_csv_nan_inf_and_shape_mismatch_fail_cleanly() {
    let (_, model) = teacher_files("t2");
    let m = model.to_str().unwrap();
    let cases = [
        (
            "ragged.csv",
            "1,2,3,4,5\n1,2,3\n",
            "line 2: 3 fields, expected 5",
        ),
        (
            "text.csv",
            "x1,x2,x3,y1,y2\n1,2,3,4,oops\n",
            "'oops' is not a number",
        ),
        ("nan.csv", "1,2,3,4,5\n1,NaN,3,4,5\n", "non-finite"),
        ("inf.csv", "1,2,3,4,-inf\n", "non-finite"),
        ("narrow.csv", "1,2,3,4\n5,6,7,8\n", "takes 3 inputs"),
        ("empty.csv", "", "no data rows"),
    ];
    for (name, text, want) in cases {
        let p = tmp(name, text);
        let out = cvxnn(&["eval", "--model", m, "--data", p.to_str().unwrap()]);
        assert_clean_failure(&out, want);
    }
    let missing = cvxnn(&["eval", "--model", m, "--data", "/nonexistent/data.csv"]);
    assert_clean_failure(&missing, "No such file");
    let bad_model = tmp(
        "bad_model.json",
        "{\"format\": \"cvxnn-mlp\", \"version\": 1}",
    );
    let p = tmp("ok.csv", "1,2,3,4,5\n");
    let out = cvxnn(&[
        "eval",
        "--model",
        bad_model.to_str().unwrap(),
        "--data",
        p.to_str().unwrap(),
    ]);
    assert_clean_failure(&out, "not a cvxnn model file");
}

#[test]
fn bad_arguments_fail_cleanly() {
    let (data, _) = teacher_files("t3");
    let d = data.to_str().unwrap();
    for (args, want) in [
        (
            vec!["train", "--data", d, "--arch", "3-x-2"],
            "not a layer width",
        ),
        (
            vec!["train", "--data", d, "--arch", "3-3-3"],
            "shape mismatch",
        ),
        (vec!["train", "--data", d], "--arch is required"),
        (
            vec!["train", "--teacher", "3-3-2", "--lambda=-1"],
            "lambda must be positive",
        ),
        (
            vec!["train", "--teacher", "3-3-2", "--max-iter", "0"],
            "--max-iter must be at least 1",
        ),
        (
            vec!["train", "--teacher", "3-3-2", "--lambda", "1,2"],
            "lambda has 2 values; give one, or one per hidden layer (1)",
        ),
        (
            vec!["train", "--teacher", "3-3-3-1", "--mu", "1,1,1"],
            "mu has 3 values",
        ),
        (
            vec!["train", "--teacher", "3-2", "--n", "5"],
            "at least one hidden layer",
        ),
        (
            vec!["train", "--teacher", "3-3-2", "--n", "0"],
            "at least one sample",
        ),
        (vec!["demo", "--sigma=-1"], "--sigma must be nonnegative"),
        (
            vec!["demo", "--backend", "admm", "--admm-tol=0"],
            "--admm-tol must be positive",
        ),
        (
            vec!["train", "--teacher", "1000000-1000000-1", "--n", "10"],
            "needs more than",
        ),
        (
            vec!["train", "--teacher", "3-3-2", "--n", "10000000000"],
            "needs more than",
        ),
        (
            vec![
                "generate",
                "teacher",
                "--arch",
                "3-0-2",
                "--out",
                "/tmp/never.csv",
            ],
            "outside 1..=",
        ),
    ] {
        assert_clean_failure(&cvxnn(&args), want);
    }
}

#[test]
fn relu_output_rejects_negative_targets() {
    let p = tmp("neg.csv", "1,2,3,-1,0.5\n4,5,6,2,1\n");
    let out = cvxnn(&[
        "train",
        "--data",
        p.to_str().unwrap(),
        "--arch",
        "3-3-2",
        "--output-activation",
        "relu",
    ]);
    // without the sdp feature the missing backend is reported first; with it the data are rejected
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && !stderr.contains("panicked"),
        "{stderr}"
    );
    assert!(
        stderr.contains("negative target") || stderr.contains("--features sdp"),
        "{stderr}"
    );
}

#[cfg(not(feature = "sdp"))]
#[test]
fn ipm_backend_without_sdp_feature_says_so() {
    assert_clean_failure(&cvxnn(&["demo", "--backend", "ipm"]), "--features sdp");
}

#[cfg(feature = "sdp")]
#[test]
fn train_writes_model_and_report_that_eval_reads() {
    let (data, _) = teacher_files("t4");
    let model = tmp("trained.json", "");
    let report = tmp("report.json", "");
    let plot = tmp("plot.svg", "");
    succeed(&[
        "train",
        "--method",
        "scr",
        "--data",
        data.to_str().unwrap(),
        "--arch",
        "3-3-2",
        "--init",
        "zero",
        "--max-iter",
        "3",
        "--model-out",
        model.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
        "--plot",
        plot.to_str().unwrap(),
    ]);
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let run = &r["runs"][0];
    assert_eq!(run["init"], "zero");
    let iterations = &run["stages"][0]["iterations"];
    assert_eq!(iterations.as_array().unwrap().len(), 3);
    for key in [
        "product_violation",
        "complementarity_violation",
        "output_error",
        "objective",
        "seconds",
    ] {
        assert!(iterations[2][key].is_f64(), "{key}");
    }
    assert!(run["final"]["output_error"].is_f64());
    assert!(std::fs::read_to_string(&plot).unwrap().starts_with("<svg"));
    let v = eval_json(&model, &data);
    let want = run["final"]["output_error"].as_f64().unwrap();
    assert!((v["output_error"].as_f64().unwrap() - want).abs() < 1e-12 * want.max(1.0));
}

#[test]
fn gradient_methods_train_polish_and_report() {
    let (data, teacher) = teacher_files("grad");
    let model = tmp("grad-model.json", "");
    let report = tmp("grad-report.json", "");
    // L-BFGS polishing the exact teacher keeps it exact and stops at once
    succeed(&[
        "train",
        "--method",
        "lbfgs",
        "--data",
        data.to_str().unwrap(),
        "--arch",
        "3-3-2",
        "--init",
        "model",
        "--init-model",
        teacher.to_str().unwrap(),
        "--model-out",
        model.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    let v = eval_json(&model, &data);
    assert_eq!(v["output_error"].as_f64().unwrap(), 0.0);
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(r["method"], "lbfgs");
    assert_eq!(r["runs"][0]["final"]["stop_reason"], "output_tolerance");
    assert_eq!(r["runs"][0]["final"]["iterations"], 0);
    // the scr+lbfgs pipeline keeps SCR's history in the report
    succeed(&[
        "train",
        "--method",
        "scr+lbfgs",
        "--teacher",
        "3-3-2",
        "--n",
        "20",
        "--max-iter",
        "3",
        "--steps",
        "50",
        "--model-out",
        model.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(r["method"], "scr+lbfgs");
    let scr_stage = &r["runs"][0]["stages"][0];
    assert_eq!(scr_stage["method"], "scr");
    assert_eq!(scr_stage["iterations"].as_array().unwrap().len(), 3);
    assert!(r["settings"]["scr"]["lambda"].is_array());
    // bad hyper-parameters and a mismatched start fail cleanly
    let t = teacher.to_str().unwrap();
    for (args, want) in [
        (
            vec!["--method", "adam", "--lr", "-1"],
            "--lr must be positive",
        ),
        (
            vec!["--method", "sgd", "--batch", "0"],
            "--batch must be at least 1",
        ),
        (vec!["--method", "lbfgs", "--memory", "0"], "memory"),
        (
            vec!["--method", "adam", "--steps", "0"],
            "--steps must be at least 1",
        ),
        (
            vec![
                "--method",
                "lbfgs",
                "--arch",
                "3-4-2",
                "--init",
                "model",
                "--init-model",
                t,
            ],
            "is a 3-3-2",
        ),
        (vec!["--method", "lm", "--arch", "3-400-400-2"], "too large"),
    ] {
        let mut all = vec![
            "train",
            "--teacher",
            "3-3-2",
            "--model-out",
            model.to_str().unwrap(),
        ];
        all.extend(args);
        assert_clean_failure(&cvxnn(&all), want);
    }
}

#[test]
fn compare_writes_a_table_rows_and_a_plot() {
    let json = tmp("cmp.json", "");
    let svg = tmp("cmp.svg", "");
    let out = succeed(&[
        "compare",
        "--teachers",
        "2",
        "--starts",
        "2",
        "--n",
        "20",
        "--methods",
        "lbfgs,lm,scr",
        "--max-iter",
        "3",
        "--jobs",
        "2",
        "--json",
        json.to_str().unwrap(),
        "--plot",
        svg.to_str().unwrap(),
    ]);
    let table = String::from_utf8_lossy(&out.stdout);
    for m in ["lbfgs", "lm", "scr"] {
        assert!(table.lines().any(|l| l.starts_with(m)), "{table}");
    }
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["format"], "cvxnn-compare");
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2 * 2 * 3);
    for r in rows {
        let e = r["output_error"].as_f64().unwrap();
        assert!(e.is_finite() && e >= 0.0, "{r}");
        assert!(r["seconds"].as_f64().unwrap() >= 0.0);
        assert!(r["error"].is_null());
    }
    // every method got the same start seeds, and the summary counts agree with the rows
    let seeds = |m: &str| -> Vec<u64> {
        rows.iter()
            .filter(|r| r["method"] == m)
            .map(|r| r["init_seed"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(seeds("lbfgs"), seeds("scr"));
    for s in v["summary"].as_array().unwrap() {
        let m = s["method"].as_str().unwrap();
        let exact = rows
            .iter()
            .filter(|r| r["method"] == m && r["output_error"].as_f64().unwrap() < 1e-6)
            .count();
        assert_eq!(s["exact"].as_u64().unwrap() as usize, exact);
        assert_eq!(s["runs"], 4);
    }
    let plot = std::fs::read_to_string(&svg).unwrap();
    assert!(plot.starts_with("<svg") && plot.trim_end().ends_with("</svg>"));
    assert_eq!(plot.matches("<circle").count(), 12);
    // the same command twice gives the same rows (up to the timings)
    let again = tmp("cmp2.json", "");
    succeed(&[
        "compare",
        "--teachers",
        "2",
        "--starts",
        "2",
        "--n",
        "20",
        "--methods",
        "lbfgs,lm,scr",
        "--max-iter",
        "3",
        "--jobs",
        "1",
        "--json",
        again.to_str().unwrap(),
        "--plot",
        svg.to_str().unwrap(),
    ]);
    let w: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&again).unwrap()).unwrap();
    let strip = |v: &serde_json::Value| -> Vec<(String, f64)> {
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["method"].to_string(), r["output_error"].as_f64().unwrap()))
            .collect()
    };
    assert_eq!(strip(&v), strip(&w));
    assert_clean_failure(&cvxnn(&["compare", "--teachers", "0"]), "at least 1");
    assert_clean_failure(
        &cvxnn(&["compare", "--teachers", "1", "--methods", "lbfgs,lbfgs"]),
        "twice",
    );
}

#[test]
fn glm_fits_bundled_data_and_rejects_bad_input() {
    let out = succeed(&[
        "glm",
        "--model",
        "ridge",
        "--alpha",
        "1",
        "--data",
        "diabetes",
        "--standardize",
        "--test-fraction",
        "0.2",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["fit"]["coef"].as_array().unwrap().len(), 10);
    assert_eq!(v["n_train"], 354);
    assert_eq!(v["test"]["n"], 88);
    let r2 = v["train"]["r2"].as_f64().unwrap();
    assert!(
        r2 > 0.4 && r2 < 1.0,
        "ridge on diabetes explains about half the variance: {r2}"
    );
    assert_eq!(v["fit"]["status"], "solved");
    // both solvers on the same models: objectives agree
    let objective = |args: &[&str]| -> f64 {
        let mut all = vec!["glm", "--json", "--standardize"];
        all.extend(args);
        let v: serde_json::Value = serde_json::from_slice(&succeed(&all).stdout).unwrap();
        v["fit"]["objective"].as_f64().unwrap()
    };
    for args in [
        vec!["--model", "lasso", "--alpha", "0.5", "--data", "diabetes"],
        vec!["--model", "logistic", "--data", "iris"],
        vec!["--model", "logistic", "--penalty", "l1", "--data", "wine"],
        vec!["--model", "svm", "--c", "0.1", "--data", "breast_cancer"],
    ] {
        let ipm = objective(&args);
        let mut fo = args.clone();
        fo.extend(["--solver", "first-order"]);
        let fo = objective(&fo);
        assert!(
            (fo - ipm).abs() <= 1e-6 * ipm,
            "{args:?}: first-order {fo} vs interior point {ipm}"
        );
    }
    let v: serde_json::Value = serde_json::from_slice(
        &succeed(&["glm", "--model", "logistic", "--data", "iris", "--json"]).stdout,
    )
    .unwrap();
    assert_eq!(v["model"]["model"], "softmax");
    assert_eq!(v["fit"]["coef"].as_array().unwrap().len(), 3);
    assert!(v["train"]["accuracy"].as_f64().unwrap() > 0.9);
    for (args, want) in [
        (
            vec!["--model", "lasso", "--alpha", "-1", "--data", "iris"],
            "alpha",
        ),
        (vec!["--model", "svm", "--data", "iris"], "--positive-class"),
        (
            vec!["--model", "logistic", "--data", "diabetes"],
            "class labels",
        ),
        (
            vec![
                "--model",
                "ridge",
                "--data",
                "iris",
                "--solver",
                "first-order",
                "--tol",
                "0",
            ],
            "--tol must be in (0, 1)",
        ),
        (
            vec!["--model", "svm", "--c", "0", "--data", "breast_cancer"],
            "--c must be positive",
        ),
        (
            vec![
                "--model",
                "elastic-net",
                "--l1-ratio",
                "2",
                "--data",
                "iris",
            ],
            "--l1-ratio must be in [0, 1]",
        ),
        (
            vec!["--model", "ridge", "--data", "no_such_set"],
            "no_such_set",
        ),
        (
            vec![
                "--model",
                "ridge",
                "--data",
                "iris",
                "--test-fraction",
                "1.5",
            ],
            "--test-fraction must be in (0, 1)",
        ),
        (
            vec!["--model", "ridge", "--data", "iris", "--target", "colour"],
            "colour",
        ),
    ] {
        let mut all = vec!["glm"];
        all.extend(args);
        assert_clean_failure(&cvxnn(&all), want);
    }
}

#[test]
fn perceptron_separates_or_certifies() {
    let out = succeed(&[
        "perceptron",
        "--data",
        "iris",
        "--positive-class",
        "0",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["separation"]["result"], "separable");
    assert_eq!(v["robust_lp"]["accuracy"].as_f64().unwrap(), 1.0);
    let out = succeed(&[
        "perceptron",
        "--data",
        "iris",
        "--classes",
        "1,2",
        "--positive-class",
        "1",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["separation"]["result"], "not_separable");
    assert_eq!(v["n"], 100);
    // the certificate, checked here from the JSON alone: λ ≥ 0 on the kept samples, Σλ = 1
    let lambda: Vec<f64> = v["separation"]["lambda"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_f64().unwrap())
        .collect();
    assert_eq!(lambda.len(), 100);
    assert!(lambda.iter().all(|&l| l >= 0.0));
    assert!((lambda.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    assert!(v["separation"]["residual"].as_f64().unwrap() < 1e-7);
    // a layer: one node per class; wine's three classes are each separable from the rest, iris'
    // versicolor and virginica are not
    let v: serde_json::Value =
        serde_json::from_slice(&succeed(&["perceptron", "--data", "wine", "--json"]).stdout)
            .unwrap();
    let nodes = v["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3);
    assert!(nodes
        .iter()
        .all(|n| n["separation"]["result"] == "separable"));
    assert_eq!(v["layer_accuracy"], 1.0);
    let v: serde_json::Value =
        serde_json::from_slice(&succeed(&["perceptron", "--data", "iris", "--json"]).stdout)
            .unwrap();
    let results: Vec<&str> = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["separation"]["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["separable", "not_separable", "not_separable"]);
    let layer = v["layer_accuracy"].as_f64().unwrap();
    assert!(layer > 0.5 && layer < 1.0, "{layer}");
    assert_clean_failure(
        &cvxnn(&["perceptron", "--data", "diabetes"]),
        "class labels",
    );
    assert_clean_failure(
        &cvxnn(&["perceptron", "--data", "iris", "--classes", "7"]),
        "--classes 7 does not occur in the targets (their values: 0, 1, 2)",
    );
}

#[test]
fn generate_writes_blum_rivest_and_parity_instances() {
    let csv = tmp("br.csv", "");
    let json = tmp("br.json", "");
    let out = succeed(&[
        "generate",
        "blum-rivest",
        "--elements",
        "8",
        "--sets",
        "12",
        "--planted",
        "--seed",
        "3",
        "--out",
        csv.to_str().unwrap(),
        "--instance-out",
        json.to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("satisfiable (brute force)"));
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(
        text.lines().count(),
        1 + 1 + 8 + 12,
        "header, origin, units, sets"
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["satisfiable"], true);
    // the printed split really splits every set
    let split: Vec<bool> = v["split"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_bool().unwrap())
        .collect();
    for set in v["sets"].as_array().unwrap() {
        let colours: Vec<bool> = set
            .as_array()
            .unwrap()
            .iter()
            .map(|i| split[i.as_u64().unwrap() as usize])
            .collect();
        assert!(colours.contains(&true) && colours.contains(&false));
    }
    let parity = tmp("parity.csv", "");
    succeed(&[
        "generate",
        "parity",
        "--bits",
        "3",
        "--out",
        parity.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read_to_string(&parity).unwrap().lines().count(), 9);
    assert_clean_failure(
        &cvxnn(&[
            "generate",
            "blum-rivest",
            "--elements",
            "1",
            "--out",
            csv.to_str().unwrap(),
        ]),
        "2 to 64 elements",
    );
}

#[cfg(not(feature = "milp"))]
#[test]
fn milp_without_the_feature_says_how_to_get_it() {
    let out = cvxnn(&[
        "train",
        "--method",
        "milp",
        "--teacher",
        "2-2-1",
        "--n",
        "10",
    ]);
    assert_clean_failure(&out, "--features milp");
}

#[test]
fn milp_refuses_networks_it_does_not_cover() {
    let out = cvxnn(&[
        "train",
        "--method",
        "milp",
        "--teacher",
        "2-2-2-1",
        "--n",
        "10",
    ]);
    assert_clean_failure(&out, "one hidden layer and one output");
    let out = cvxnn(&[
        "train",
        "--method",
        "lbfgs",
        "--teacher",
        "2-2-1",
        "--noise=-1",
    ]);
    assert_clean_failure(&out, "label noise");
}

#[cfg(feature = "milp")]
#[test]
fn milp_certifies_a_small_teacher_and_its_network_reproduces_the_loss() {
    let model = tmp("milp_model.json", "");
    let report = tmp("milp_report.json", "");
    let data = tmp("milp_data.csv", "");
    let (m, r, d) = (
        model.to_str().unwrap(),
        report.to_str().unwrap(),
        data.to_str().unwrap(),
    );
    succeed(&[
        "generate", "teacher", "--arch", "2-2-1", "--n", "12", "--seed", "3", "--out", d,
    ]);
    let out = succeed(&[
        "train",
        "--method",
        "milp",
        "--data",
        d,
        "--arch",
        "2-2-1",
        "--loss",
        "linf",
        "--weight-bound",
        "5",
        "--model-out",
        m,
        "--report",
        r,
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("optimal (certified)"));
    let rep: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let cert = &rep["runs"][0]["certificate"];
    assert_eq!(cert["status"], "optimal");
    let claimed = cert["incumbent"].as_f64().unwrap();
    assert!(cert["lower_bound"].as_f64().unwrap() <= claimed + 1e-9);
    // the saved network's largest error, through `cvxnn eval`, is the claimed L∞ loss
    let out = succeed(&["eval", "--model", m, "--data", d, "--json"]);
    let ev: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let max_abs = ev["max_abs_error"].as_f64().unwrap();
    assert!(
        (max_abs - claimed).abs() <= 1e-6 * (1.0 + claimed),
        "forward pass {max_abs}, claimed {claimed}"
    );
    // exact fit in a box too small for the targets: a proof of infeasibility, exit code 1
    let out = cvxnn(&[
        "train",
        "--method",
        "milp",
        "--data",
        d,
        "--arch",
        "2-1-1",
        "--loss",
        "exact",
        "--weight-bound",
        "0.001",
        "--model-out",
        m,
    ]);
    assert_clean_failure(&out, "infeasible");
}

#[cfg(feature = "milp")]
#[test]
fn milp_trains_blum_rivests_network_on_a_planted_instance() {
    let data = tmp("milp_br.csv", "");
    let model = tmp("milp_br.json", "");
    let (d, m) = (data.to_str().unwrap(), model.to_str().unwrap());
    succeed(&[
        "generate",
        "blum-rivest",
        "--elements",
        "8",
        "--sets",
        "24",
        "--planted",
        "--seed",
        "2",
        "--out",
        d,
    ]);
    let out = succeed(&[
        "train",
        "--method",
        "milp",
        "--threshold",
        "--arch",
        "8-2-1",
        "--data",
        d,
        "--loss",
        "exact",
        "--weight-bound",
        "16",
        "--model-out",
        m,
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("optimal (certified)"));
    let net: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    assert_eq!(net["units"].as_array().unwrap().len(), 2);
    // a threshold network is a model kind eval and predict load: it classifies every point
    let ev = eval_json(&model, &data);
    assert_eq!(ev["max_abs_error"].as_f64().unwrap(), 0.0, "{ev}");
    let out = succeed(&["predict", "--model", m, "--data", d]);
    let preds: Vec<f64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(1)
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(preds.len(), ev["n_samples"].as_u64().unwrap() as usize);
    assert!(preds.iter().all(|&p| p == 0.0 || p == 1.0));
    // one unit cannot fit the points (Blum & Rivest): the fewest errors is at least one
    let out = succeed(&[
        "train",
        "--method",
        "milp",
        "--threshold",
        "--arch",
        "8-1-1",
        "--data",
        d,
        "--loss",
        "l1",
        "--weight-bound",
        "16",
        "--model-out",
        m,
    ]);
    let line = String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .unwrap()
        .to_string();
    let errors: usize = line.split_whitespace().nth(2).unwrap().parse().unwrap();
    assert!(errors >= 1, "{line}");
}

/// `compare --global-optimum`: on noisy teachers every gradient-trained network of the class has
/// an L1 loss at least the MILP's certified optimum; `milp` as a method of the comparison reaches
/// it from every start and reports its certificate.
#[cfg(feature = "milp")]
#[test]
fn compare_puts_every_run_above_the_certified_optimum() {
    let json = tmp("cmp_global.json", "");
    let svg = tmp("cmp_global.svg", "");
    let (j, s) = (json.to_str().unwrap(), svg.to_str().unwrap());
    succeed(&[
        "compare",
        "--teachers",
        "2",
        "--arch",
        "2-2-1",
        "--n",
        "10",
        "--noise",
        "0.1",
        "--starts",
        "2",
        "--methods",
        "adam,lbfgs,lm,milp",
        "--global-optimum",
        "--json",
        j,
        "--plot",
        s,
    ]);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let problems = doc["global_optimum"]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2);
    let mut checked = 0;
    for p in problems {
        assert_eq!(p["status"], "optimal");
        let bound = p["lower_bound"].as_f64().unwrap();
        assert!(bound > 0.0, "noisy targets: a positive optimum");
        for r in doc["rows"].as_array().unwrap() {
            if r["problem"] != p["problem"] || r["class_bound"].as_f64().unwrap() > 10.0 {
                continue;
            }
            let l1 = r["l1_loss"].as_f64().unwrap();
            assert!(
                l1 >= bound - 1e-6,
                "{} has L1 {l1} < optimum {bound}",
                r["method"]
            );
            checked += 1;
        }
    }
    assert!(checked >= 6, "only {checked} runs in the class");
    // each milp row is certified, and its L1 loss is the problem's optimum
    let mut milp_rows = 0;
    for r in doc["rows"].as_array().unwrap() {
        if r["method"] != "milp" {
            continue;
        }
        milp_rows += 1;
        let cert = &r["certificate"];
        assert_eq!(cert["status"], "optimal", "{r}");
        assert_eq!(cert["certified"], true);
        let p = problems
            .iter()
            .find(|p| p["problem"] == r["problem"])
            .unwrap();
        let bound = p["lower_bound"].as_f64().unwrap();
        let l1 = r["l1_loss"].as_f64().unwrap();
        assert!(
            (l1 - bound).abs() <= 1e-5 * (1.0 + bound),
            "{l1} vs {bound}"
        );
        assert!((cert["incumbent"].as_f64().unwrap() - l1).abs() <= 1e-9 * (1.0 + l1));
    }
    assert_eq!(milp_rows, 4);
}

#[cfg(feature = "milp")]
#[test]
fn milp_with_integer_weights_fits_xor_with_two_units_and_refutes_one() {
    let data = tmp("milp_xor.csv", "");
    let model = tmp("milp_xor.json", "");
    let (d, m) = (data.to_str().unwrap(), model.to_str().unwrap());
    succeed(&["generate", "parity", "--bits", "2", "--out", d]);
    succeed(&[
        "train",
        "--method",
        "milp",
        "--data",
        d,
        "--arch",
        "2-2-1",
        "--integer-weights",
        "1",
        "--loss",
        "exact",
        "--model-out",
        m,
    ]);
    let out = succeed(&["eval", "--model", m, "--data", d, "--json"]);
    let ev: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(ev["max_abs_error"].as_f64().unwrap() <= 1e-6);
    let net: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    for layer in net["weights"].as_array().unwrap() {
        for w in layer["data"].as_array().unwrap() {
            let w = w.as_f64().unwrap();
            assert!(w.fract() == 0.0 && w.abs() <= 1.0, "weight {w}");
        }
    }
    let out = cvxnn(&[
        "train",
        "--method",
        "milp",
        "--data",
        d,
        "--arch",
        "2-1-1",
        "--integer-weights",
        "1",
        "--loss",
        "exact",
        "--model-out",
        m,
    ]);
    assert_clean_failure(&out, "infeasible");
}

/// Reads a report or a compare file.
fn json_file(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// An Adam run on N = 2 000 that only a signal or a time limit ends (no tolerance can stop it,
/// and 10⁸ steps take far longer than either test waits).
const ADAM_WITHOUT_TOLERANCES: [&str; 10] = [
    "--method",
    "adam",
    "--n",
    "2000",
    "--steps",
    "100000000",
    "--grad-tol",
    "0",
    "--output-tol",
    "0",
];

/// Ctrl-C after the first iteration: the run stops at the next iteration boundary, writes its
/// report (stop `interrupted`, at least one iteration) and a model that `eval` loads, and exits
/// 130.
#[test]
fn sigint_after_the_first_iteration_keeps_report_and_model() {
    use std::io::BufRead;
    for (tag, method_args) in [
        (
            "scr",
            vec!["--method", "scr", "--n", "1000", "--max-iter", "500"],
        ),
        ("adam", ADAM_WITHOUT_TOLERANCES.to_vec()),
    ] {
        let report = tmp(&format!("int-{tag}.json"), "");
        let model = tmp(&format!("int-{tag}-model.json"), "");
        let mut args = vec!["train", "--teacher", "3-3-2", "--init", "random"];
        args.extend(method_args);
        args.extend([
            "--report",
            report.to_str().unwrap(),
            "--model-out",
            model.to_str().unwrap(),
        ]);
        let mut child = Command::new(env!("CARGO_BIN_EXE_cvxnn"))
            .args(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // stderr is not a terminal: a progress line at most every 5 s. The gradient methods
        // report their start as iteration 0, so wait for a line that counts a finished iteration
        // (a signal sent on the first line raced the first step, and Adam without tolerances
        // cannot converge before the signal arrives).
        let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let marker = format!(" s] {tag} ");
        let first = lines
            .by_ref()
            .map(|l| l.unwrap())
            .find(|l| {
                l.split_once(&marker)
                    .and_then(|(_, rest)| rest.split('/').next())
                    .and_then(|k| k.parse::<u64>().ok())
                    .is_some_and(|k| k >= 1)
            })
            .expect("a progress line after the first iteration");
        assert!(first.contains(tag), "{first}");
        // SAFETY: a plain kill(2) of our own child.
        assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
        let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(130), "{tag}: {rest:?}");
        let r = json_file(&report);
        let run = &r["runs"][0];
        assert_eq!(run["final"]["stop_reason"], "interrupted", "{tag}");
        assert!(run["final"]["iterations"].as_u64().unwrap() >= 1);
        assert!(!run["stages"][0]["iterations"]
            .as_array()
            .unwrap()
            .is_empty());
        // the model is the run's network: eval reproduces the reported output error
        let n = if tag == "scr" { 1000 } else { 2000 };
        let data = teacher_file(&format!("int-{tag}.csv"), "3-3-2", n, 1);
        let v = eval_json(&model, &data);
        let want = run["final"]["output_error"].as_f64().unwrap();
        assert!(
            (v["output_error"].as_f64().unwrap() - want).abs() <= 1e-9 * want,
            "{tag}"
        );
    }
}

/// `--time-limit 2` on runs that need far longer: they stop with `time_limit` within the limit
/// plus one iteration.
#[test]
fn time_limit_stops_scr_and_gradient_runs() {
    for (tag, method_args) in [
        (
            "scr",
            vec!["--method", "scr", "--n", "1000", "--max-iter", "1000"],
        ),
        ("adam", ADAM_WITHOUT_TOLERANCES.to_vec()),
    ] {
        let report = tmp(&format!("tl-{tag}.json"), "");
        let model = tmp(&format!("tl-{tag}-model.json"), "");
        let mut args = vec!["train", "--teacher", "3-3-2", "--time-limit", "2"];
        args.extend(method_args);
        args.extend([
            "--report",
            report.to_str().unwrap(),
            "--model-out",
            model.to_str().unwrap(),
        ]);
        succeed(&args);
        let r = json_file(&report);
        let run = &r["runs"][0];
        assert_eq!(run["final"]["stop_reason"], "time_limit", "{tag}");
        let stage = &run["stages"][0];
        // the longest iteration: SCR records each one's time, gradient methods the time since
        // the start at each record
        let iters = stage["iterations"].as_array().unwrap();
        let secs: Vec<f64> = iters
            .iter()
            .map(|i| i["seconds"].as_f64().unwrap())
            .collect();
        let longest = if tag == "scr" {
            secs.iter().copied().fold(0.0, f64::max)
        } else {
            secs.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max)
        };
        let total = run["final"]["seconds"].as_f64().unwrap();
        assert!(
            total >= 2.0 && total <= 2.0 + longest + 0.5,
            "{tag}: {total} s, longest {longest}"
        );
        assert!(std::fs::read_to_string(&model)
            .unwrap()
            .contains("cvxnn-model"));
    }
}

/// Columns by name: train on a headed CSV with the target in the middle, predict on a file of
/// inputs only (in another order), and the predictions are the network's forward pass: their
/// error against the targets is `eval`'s, with and without standardisation.
#[test]
fn predict_round_trips_and_eval_matches_columns_by_name() {
    let mut rows = String::from("a,price,b,c\n");
    let mut inputs = String::from("c,a,b\n");
    let mut targets = Vec::new();
    for j in 0..40 {
        let (a, b, c) = (
            j as f64 / 7.0,
            ((j * 13) % 17) as f64 - 8.0,
            ((j * 5) % 11) as f64,
        );
        let price = 3.0 * a - 0.5 * b + (c - 4.0).max(0.0) + 10.0;
        rows += &format!("{a},{price},{b},{c}\n");
        inputs += &format!("{c},{a},{b}\n");
        targets.push(price);
    }
    let data = tmp("houses.csv", &rows);
    let inp = tmp("houses-inputs.csv", &inputs);
    for standardize in [false, true] {
        let model = tmp(&format!("houses-{standardize}.json"), "");
        let preds = tmp(&format!("houses-pred-{standardize}.csv"), "");
        let mut args = vec![
            "train",
            "--method",
            "lbfgs",
            "--data",
            data.to_str().unwrap(),
            "--targets",
            "price",
            "--arch",
            "3-4-1",
            "--model-out",
            model.to_str().unwrap(),
        ];
        if standardize {
            args.push("--standardize");
        }
        let out = succeed(&args);
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            said.contains("targets: price") && said.contains("inputs: a, b, c"),
            "{said}"
        );
        succeed(&[
            "predict",
            "--model",
            model.to_str().unwrap(),
            "--data",
            inp.to_str().unwrap(),
            "--out",
            preds.to_str().unwrap(),
        ]);
        let text = std::fs::read_to_string(&preds).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("price"));
        let p: Vec<f64> = lines.map(|l| l.parse().unwrap()).collect();
        assert_eq!(p.len(), 40);
        let mse = p
            .iter()
            .zip(&targets)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            / 40.0;
        // eval finds the target by name although it is not the last column
        let v = eval_json(&model, &data);
        let want = v["mse"].as_f64().unwrap();
        assert!((mse - want).abs() <= 1e-12 * want, "{mse} vs {want}");
        assert!(v["output_error"].as_f64().unwrap() < 0.2);
    }
    // a file that lacks a column the model needs is refused by eval and predict, naming it
    let model = data.with_file_name("houses-false.json");
    let wrong = tmp("houses-wrong.csv", "a,b,price\n1,2,3\n");
    for cmd in ["eval", "predict"] {
        let out = cvxnn(&[
            cmd,
            "--model",
            model.to_str().unwrap(),
            "--data",
            wrong.to_str().unwrap(),
        ]);
        assert_clean_failure(&out, "no column named c");
    }
    let out = cvxnn(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--targets",
        "a",
    ]);
    assert_clean_failure(&out, "trained on target(s) price");
    // a file in cvxnn's own naming whose split disagrees with the architecture is refused
    let (teacher_csv, _) = teacher_files("split");
    let out = cvxnn(&[
        "train",
        "--data",
        teacher_csv.to_str().unwrap(),
        "--arch",
        "4-3-1",
    ]);
    assert_clean_failure(&out, "name 2 target(s), but 1 were asked for");
}

/// `compare --init-scheme`: the gradient methods' start follows it, so He and Glorot starts give
/// different rows; the same scheme gives the same rows.
#[test]
fn compare_honours_the_init_scheme() {
    let rows = |scheme: &str| -> Vec<f64> {
        let json = tmp(&format!("cmp-{scheme}.json"), "");
        let svg = tmp(&format!("cmp-{scheme}.svg"), "");
        succeed(&[
            "compare",
            "--teachers",
            "2",
            "--n",
            "20",
            "--methods",
            "adam,lbfgs",
            "--steps",
            "50",
            "--init-scheme",
            scheme,
            "--json",
            json.to_str().unwrap(),
            "--plot",
            svg.to_str().unwrap(),
        ]);
        let v = json_file(&json);
        assert_eq!(v["plan"]["init_scheme"], scheme);
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["loss"].as_f64().unwrap())
            .collect()
    };
    let (he, glorot) = (rows("he"), rows("glorot"));
    assert_eq!(he.len(), 4);
    assert!(
        he.iter().zip(&glorot).all(|(a, b)| a != b),
        "{he:?} {glorot:?}"
    );
    assert_eq!(rows("he"), he);
}

/// A flag of another method family is an error, not silently ignored.
#[test]
fn flags_of_other_methods_are_refused() {
    for (args, want) in [
        (
            vec![
                "train",
                "--teacher",
                "3-3-2",
                "--method",
                "scr",
                "--lr",
                "0.1",
            ],
            "--lr is a gradient-method option",
        ),
        (
            vec![
                "train",
                "--teacher",
                "3-3-2",
                "--method",
                "adam",
                "--lambda",
                "2",
            ],
            "--lambda is an SCR option",
        ),
        (
            vec![
                "train",
                "--teacher",
                "2-2-1",
                "--method",
                "lbfgs",
                "--weight-bound",
                "3",
            ],
            "--weight-bound is an exact-training",
        ),
        (
            vec![
                "train",
                "--teacher",
                "2-2-1",
                "--method",
                "milp",
                "--output-tol",
                "1e-3",
            ],
            "--output-tol is an option of the iterative methods",
        ),
        (
            vec![
                "compare",
                "--teachers",
                "1",
                "--methods",
                "adam,lm",
                "--max-iter",
                "3",
            ],
            "--max-iter is an SCR option",
        ),
        (
            vec!["train", "--teacher", "3-3-2", "--sigma", "0.1"],
            "--sigma applies to --init perturbed",
        ),
    ] {
        let out = cvxnn(&args);
        assert_clean_failure(&out, want);
        assert_eq!(
            out.status.code(),
            Some(if want.starts_with("--sigma") { 1 } else { 2 })
        );
    }
}

/// `compare` on three noisy 2-8-1 teachers (N = 30) scored with weight decay 1e-2, with `extra`
/// flags: the compare file and the printed summary.
fn compare_weight_decay(name: &str, extra: &[&str]) -> (serde_json::Value, String) {
    let json = tmp(name, "");
    let svg = tmp(&format!("{name}.svg"), "");
    let mut args = vec![
        "compare",
        "--teachers",
        "3",
        "--arch",
        "2-8-1",
        "--n",
        "30",
        "--noise",
        "0.1",
        "--weight-decay",
        "1e-2",
        "--json",
        json.to_str().unwrap(),
        "--plot",
        svg.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = succeed(&args);
    (
        json_file(&json),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

/// `compare --weight-decay`: every problem's certified global optimum of the convex model, every
/// gradient run on the same objective above it, and the excess per method.
#[test]
fn compare_sets_gradient_runs_against_the_convex_optimum() {
    let (doc, stdout) =
        compare_weight_decay("cmp_convex.json", &["--methods", "convex,adam,lbfgs"]);
    assert!(stdout.contains("convex optimum") && stdout.contains("median excess"));
    let opt = &doc["convex_optimum"];
    assert_eq!(opt["beta"], 1e-2);
    let problems = opt["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 3);
    for p in problems {
        assert_eq!(p["scope"], "global");
        assert_eq!(p["certified"], true);
        assert!(
            p.get("global_bound").is_none(),
            "a global optimum needs no other bound"
        );
        let bound = p["dual_bound"].as_f64().unwrap();
        for r in doc["rows"].as_array().unwrap() {
            if r["problem"] != p["problem"] {
                continue;
            }
            let obj = r["objective"].as_f64().unwrap();
            assert!(
                obj >= bound * (1.0 - 1e-9),
                "{} {obj} < {bound}",
                r["method"]
            );
        }
    }
    let convex = opt["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["method"] == "convex")
        .unwrap();
    assert_eq!(convex["at_optimum"], 3);
}

/// `compare --weight-decay` with sampled patterns: the restricted optimum is no bound, so each
/// problem gets a global lower bound certified from its best run's network. It is checked
/// against the global optimum the enumerated program certifies on the same teachers (the bound
/// may not exceed it) and against every run (none below it).
#[test]
fn compare_sets_runs_against_a_global_bound_where_patterns_are_sampled() {
    let (sampled, stdout) = compare_weight_decay(
        "cmp_bound.json",
        &[
            "--methods",
            "convex,adam,lbfgs",
            "--patterns",
            "6",
            "--bound-time",
            "5",
        ],
    );
    assert!(stdout.contains("global bound") && stdout.contains("median above bound"));
    let (enumerated, _) = compare_weight_decay("cmp_bound_all.json", &["--methods", "convex"]);
    let optima = enumerated["convex_optimum"]["problems"].as_array().unwrap();
    let problems = sampled["convex_optimum"]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 3);
    for (p, global) in problems.iter().zip(optima) {
        assert_eq!(p["scope"], "restricted");
        assert_eq!(global["scope"], "global");
        assert_eq!(global["certified"], true);
        let bound = p["global_bound"]["lower_bound"].as_f64().unwrap();
        let optimum = global["objective"].as_f64().unwrap();
        assert!(
            bound <= optimum * (1.0 + 1e-9),
            "{}: bound {bound} above the global optimum {optimum}",
            p["problem"]
        );
        // in 2-D the pricer proves its bound in a fraction of a second and column generation
        // from the best network reaches the optimum (measured: 6e-7 relative below it)
        assert!(
            bound >= optimum * (1.0 - 1e-3),
            "{}: bound {bound} far below the global optimum {optimum}",
            p["problem"]
        );
        for r in sampled["rows"].as_array().unwrap() {
            if r["problem"] != p["problem"] {
                continue;
            }
            let obj = r["objective"].as_f64().unwrap();
            assert!(obj >= bound, "{} {obj} < {bound}", r["method"]);
        }
    }
    let methods = sampled["convex_optimum"]["methods"].as_array().unwrap();
    assert!(methods
        .iter()
        .all(|m| m["median_above_bound"].as_f64().unwrap() >= 0.0));
}

#[test]
fn the_convex_model_states_what_it_needs() {
    let m = tmp("convex_model.json", "");
    let model = m.to_str().unwrap();
    let base = [
        "train",
        "--method",
        "convex",
        "--teacher",
        "2-3-1",
        "--n",
        "20",
        "--model-out",
        model,
    ];
    assert_clean_failure(&cvxnn(&base), "--weight-decay");
    let mut args = base.to_vec();
    args.extend(["--weight-decay", "1e-2", "--arch", "2-3-3-1"]);
    assert_clean_failure(&cvxnn(&args), "two-layer");
    // too many patterns to enumerate: refused with the count
    let out = cvxnn(&[
        "train",
        "--method",
        "convex",
        "--teacher",
        "6-3-1",
        "--n",
        "300",
        "--weight-decay",
        "1e-2",
        "--model-out",
        model,
    ]);
    assert_clean_failure(&out, "--max-patterns");
    // a classification loss on real-valued targets, a MILP loss for the convex model, and the
    // squared loss's comparison refusing the others
    let mut args = base.to_vec();
    args.extend(["--weight-decay", "1e-2", "--loss", "logistic"]);
    assert_clean_failure(&cvxnn(&args), "labels 0/1 or −1/1");
    let mut args = base.to_vec();
    args.extend(["--weight-decay", "1e-2", "--loss", "l1"]);
    assert_clean_failure(&cvxnn(&args), "takes squared, logistic or hinge");
    let out = cvxnn(&[
        "compare",
        "--teachers",
        "2",
        "--arch",
        "2-3-1",
        "--weight-decay",
        "1e-2",
        "--methods",
        "convex,lbfgs",
        "--loss",
        "hinge",
    ]);
    assert_clean_failure(&out, "squared loss");
    // a flag of the convex model with another method, and weight decay with SCR
    let out = cvxnn(&[
        "train",
        "--method",
        "lbfgs",
        "--teacher",
        "2-3-1",
        "--patterns",
        "10",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = cvxnn(&[
        "train",
        "--method",
        "scr",
        "--teacher",
        "2-3-1",
        "--weight-decay",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    // sampled patterns: the model says it is restricted; eval reproduces its fit
    let data = teacher_file("convex_teacher.csv", "2-3-1", 20, 3);
    let r = tmp("convex_report.json", "");
    let out = succeed(&[
        "train",
        "--method",
        "convex",
        "--data",
        data.to_str().unwrap(),
        "--arch",
        "2-3-1",
        "--weight-decay",
        "1e-2",
        "--patterns",
        "25",
        "--model-out",
        model,
        "--report",
        r.to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("restricted to"));
    let report = json_file(&r);
    let cert = &report["runs"][0]["certificate"];
    assert_eq!(cert["kind"], "convex");
    assert_eq!(cert["scope"], "restricted");
    let e = eval_json(&m, &data);
    let mse = report["runs"][0]["final"]["loss"].as_f64().unwrap();
    assert!((e["mse"].as_f64().unwrap() - mse).abs() <= 1e-12 * mse);
}

/// `certify` on a gradient-trained network: a bound below its objective, in the summary and in
/// the JSON report; bad input fails cleanly.
#[test]
fn certify_bounds_a_trained_network_and_refuses_bad_input() {
    let data = teacher_file("cert.csv", "2-4-1", 40, 2);
    let d = data.to_str().unwrap();
    let model = tmp("cert-model.json", "");
    let m = model.to_str().unwrap();
    let report = tmp("cert-report.json", "");
    succeed(&[
        "train",
        "--method",
        "lbfgs",
        "--data",
        d,
        "--arch",
        "2-6-1",
        "--weight-decay",
        "1e-2",
        "--model-out",
        m,
        "--report",
        report.to_str().unwrap(),
    ]);
    let out = succeed(&[
        "certify",
        "--model",
        m,
        "--data",
        d,
        "--weight-decay",
        "1e-2",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let objective = v["objective"].as_f64().unwrap();
    let bound = v["bound"]["lower_bound"].as_f64().unwrap();
    assert!(bound > 0.0 && bound <= objective, "{v}");
    assert_eq!(v["bound"]["status"], "proved", "{v}");
    assert_eq!(v["format"], "cvxnn-certificate");
    let text = succeed(&[
        "certify",
        "--model",
        m,
        "--data",
        d,
        "--weight-decay",
        "1e-2",
    ]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("above the best such network"), "{text}");

    let bad = cvxnn(&["certify", "--model", m, "--data", d, "--weight-decay", "0"]);
    assert_clean_failure(&bad, "--weight-decay");
    // the data lack the model's column x2
    let narrow = teacher_file("cert-narrow.csv", "1-3-1", 20, 1);
    let out = cvxnn(&[
        "certify",
        "--model",
        m,
        "--data",
        narrow.to_str().unwrap(),
        "--weight-decay",
        "1e-2",
    ]);
    assert_clean_failure(&out, "x2");
    let three = teacher_file("cert-deep.csv", "2-3-3-1", 20, 1);
    let deep_model = tmp("cert-deep.json", "");
    succeed(&[
        "train",
        "--method",
        "adam",
        "--data",
        three.to_str().unwrap(),
        "--arch",
        "2-3-3-1",
        "--steps",
        "10",
        "--model-out",
        deep_model.to_str().unwrap(),
        "--report",
        tmp("cert-deep-report.json", "").to_str().unwrap(),
    ]);
    let out = cvxnn(&[
        "certify",
        "--model",
        deep_model.to_str().unwrap(),
        "--data",
        three.to_str().unwrap(),
        "--weight-decay",
        "1e-2",
    ]);
    assert_clean_failure(&out, "two-layer");
}

/// `train --loss cross-entropy` writes a model of class probabilities and says its figures;
/// `--validation-fraction` stops early; `glm --no-intercept` fits no intercept; and each flag is
/// refused where it does not apply.
#[test]
fn classification_early_stopping_and_no_intercept_from_the_command_line() {
    let model = tmp("ce-model.json", "");
    let out = succeed(&[
        "train",
        "--data",
        "iris",
        "--labels",
        "--arch",
        "4-6-3",
        "--method",
        "lbfgs",
        "--loss",
        "cross-entropy",
        "--weight-decay",
        "1e-3",
        "--standardize",
        "--model-out",
        model.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("class probabilities: cross-entropy"), "{err}");
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    assert_eq!(file["version"], 3);
    assert_eq!(file["link"], "softmax");
    // eval reads the label column as training encoded it, and gives the same figures
    let trained = err
        .lines()
        .find(|l| l.starts_with("class probabilities"))
        .unwrap()
        .to_string();
    let out = succeed(&["eval", "--model", model.to_str().unwrap(), "--data", "iris"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let ce = |s: &str| {
        s.split("cross-entropy").nth(1).and_then(|r| {
            r.split([',', ' '])
                .find(|w| !w.is_empty())
                .map(str::to_string)
        })
    };
    assert_eq!(ce(&trained), ce(&text), "{trained} / {text}");
    let out = succeed(&[
        "train",
        "--data",
        "diabetes",
        "--arch",
        "10-32-1",
        "--method",
        "adam",
        "--standardize",
        "--validation-fraction",
        "0.2",
        "--steps",
        "5000",
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("early_stopped"));
    let out = succeed(&[
        "glm",
        "--model",
        "ridge",
        "--data",
        "diabetes",
        "--no-intercept",
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("intercept"));
    // refused: cross-entropy with Levenberg–Marquardt, early stopping knobs without it, no
    // intercept on the first-order path
    let out = cvxnn(&[
        "train",
        "--data",
        "iris",
        "--labels",
        "--arch",
        "4-3-3",
        "--method",
        "lm",
        "--loss",
        "cross-entropy",
    ]);
    assert_clean_failure(&out, "least squares");
    let out = cvxnn(&[
        "train",
        "--data",
        "diabetes",
        "--arch",
        "10-4-1",
        "--method",
        "adam",
        "--n-iter-no-change",
        "3",
    ]);
    assert_clean_failure(&out, "--validation-fraction");
    let out = cvxnn(&[
        "glm",
        "--model",
        "ridge",
        "--data",
        "diabetes",
        "--no-intercept",
        "--solver",
        "first-order",
    ]);
    assert_clean_failure(&out, "interior point");
}
