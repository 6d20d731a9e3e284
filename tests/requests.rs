//! Run requests from the command line: a request file and the equivalent flags are the same
//! request; flags override a file's keys; every report embeds its resolved request, and `cvxnn
//! rerun` trains it again bit for bit, or refuses changed data by name.

mod binary;

use binary::{cvxnn, succeed, teacher_file, tmp};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    tmp("requests.keep", "").parent().unwrap().to_path_buf()
}

fn write(name: &str, text: &str) -> PathBuf {
    tmp(name, text)
}

/// The resolved request `train … --print-request` prints.
fn printed(args: &[&str]) -> Value {
    let mut all = vec!["train"];
    all.extend_from_slice(args);
    all.push("--print-request");
    serde_json::from_slice(&succeed(&all).stdout).expect("a JSON request")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_request_file_and_the_same_flags_are_the_same_request() {
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "--teacher",
                "2-3-1",
                "--n",
                "20",
                "--seed",
                "5",
                "--method",
                "adam",
                "--steps",
                "100",
                "--lr",
                "0.02",
                "--batch",
                "8",
                "--weight-decay",
                "1e-3",
                "--init-scheme",
                "glorot",
                "--time-limit",
                "30",
                "--standardize",
                "--output-tol",
                "1e-6",
            ],
            r#"
                method = "adam"
                seed = 5
                standardize = true
                time_limit = 30
                data = { teacher = "2-3-1", n = 20 }
                start = { scheme = "glorot" }
                [gradient]
                max_iter = 100
                lr = 0.02
                batch = 8
                weight_decay = 1e-3
                output_tol = 1e-6
            "#,
        ),
        (
            vec![
                "--teacher",
                "3-4-4-2",
                "--noise",
                "0.1",
                "--method",
                "scr+lbfgs",
                "--lambda",
                "1,10",
                "--mu",
                "2",
                "--max-iter",
                "7",
                "--admm-tol",
                "1e-7",
                "--admm-exact",
                "--memory",
                "5",
                "--init",
                "zero",
            ],
            r#"
                method = "scr+lbfgs"
                data = { teacher = "3-4-4-2", noise = 0.1 }
                start = { init = "zero" }
                scr = { lambda = [1, 10], mu = 2, max_iter = 7, admm_tol = 1e-7, admm_exact = true }
                gradient = { memory = 5 }
            "#,
        ),
        (
            vec![
                "--teacher",
                "2-3-1",
                "--method",
                "convex",
                "--weight-decay",
                "1e-2",
                "--patterns",
                "40",
                "--pattern-seed",
                "9",
                "--solver",
                "active-set",
                "--gap-tol",
                "1e-5",
                "--arch",
                "2-8-1",
                "--threads",
                "2",
            ],
            r#"
                method = "convex"
                arch = "2-8-1"
                threads = 2
                [data]
                teacher = "2-3-1"
                [convex]
                weight_decay = 0.01
                patterns = 40
                pattern_seed = 9
                solver = "active-set"
                gap_tol = 1e-5
            "#,
        ),
    ];
    for (flags, toml) in cases {
        let file = write("same.toml", toml);
        let from_flags = printed(&flags);
        let from_file = printed(&["--config", s(&file)]);
        assert_eq!(from_flags, from_file, "{flags:?}");
        // a JSON file of the printed request is the same request again
        let json = write("same.json", &from_flags.to_string());
        assert_eq!(printed(&["--config", s(&json)]), from_flags);
    }
    // every default is written out: a request without settings resolves the method's own
    let r = printed(&["--teacher", "3-3-2", "--method", "lbfgs"]);
    assert_eq!(r["gradient"]["max_iter"], 2000);
    assert_eq!(r["start"]["scheme"], "he");
    assert_eq!(r["arch"], "3-3-2");
    assert!(r.get("scr").is_none(), "only the groups the method reads");
}

#[test]
fn flags_override_a_request_file() {
    let file = write(
        "base.toml",
        "method = \"adam\"\nseed = 2\n[data]\nteacher = \"3-3-2\"\n[gradient]\nlr = 0.5\nmax_iter = 10\n",
    );
    let r = printed(&["--config", s(&file), "--lr", "0.05", "--seed", "4"]);
    assert_eq!(r["gradient"]["lr"], 0.05);
    assert_eq!(r["gradient"]["max_iter"], 10);
    assert_eq!(r["seed"], 4);
    // a data file on the command line replaces the request file's teacher
    let data = teacher_file("base.csv", "3-3-2", 12, 1);
    let r = printed(&["--config", s(&file), "--data", s(&data), "--arch", "3-3-2"]);
    assert_eq!(r["data"], serde_json::json!({ "file": s(&data) }));
    // a bad key of the file is named with its flag
    let bad = write(
        "bad.toml",
        "method = \"adam\"\n[data]\nteacher = \"3-3-2\"\n[gradient]\nlr = -1\n",
    );
    let out = cvxnn(&["train", "--config", s(&bad)]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--lr must be positive"), "{err}");
    let bad = write(
        "bad2.toml",
        "method = \"adam\"\n[data]\nteacher = \"3-3-2\"\n[gradient]\nlrr = 1\n",
    );
    let err = String::from_utf8_lossy(&cvxnn(&["train", "--config", s(&bad)]).stderr).to_string();
    assert!(err.contains("`gradient.lrr` is not a setting"), "{err}");
}

/// Trains with `args` and a report, reruns the report, and returns what rerun printed.
fn train_and_rerun(tag: &str, args: &[&str]) -> String {
    let report = dir().join(format!("{tag}-report.json"));
    let model = dir().join(format!("{tag}-model.json"));
    let mut all = vec!["train", "--report", s(&report), "--model-out", s(&model)];
    all.extend_from_slice(args);
    succeed(&all);
    let again = dir().join(format!("{tag}-again.json"));
    let out = succeed(&["rerun", s(&report), "--model-out", s(&again)]);
    // the rerun's model file is the same, byte for byte
    assert_eq!(
        std::fs::read(&model).unwrap(),
        std::fs::read(&again).unwrap(),
        "{tag}"
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn reports_of_every_method_rerun_bit_for_bit() {
    let data = teacher_file("rerun.csv", "2-3-1", 20, 6);
    let file = ["--data", s(&data), "--arch", "2-3-1"];
    let runs: Vec<(&str, Vec<&str>)> = vec![
        ("scr", vec!["--method", "scr", "--max-iter", "5"]),
        (
            "adam",
            vec![
                "--method",
                "adam",
                "--steps",
                "200",
                "--batch",
                "6",
                "--standardize",
            ],
        ),
        ("sgd", vec!["--method", "sgd", "--steps", "200"]),
        ("lbfgs", vec!["--method", "lbfgs", "--weight-decay", "1e-3"]),
        ("lm", vec!["--method", "lm", "--steps", "30"]),
        (
            "scr+lbfgs",
            vec!["--method", "scr+lbfgs", "--max-iter", "3"],
        ),
        (
            "convex",
            vec![
                "--method",
                "convex",
                "--weight-decay",
                "1e-2",
                "--patterns",
                "30",
            ],
        ),
    ];
    for (tag, args) in runs {
        let mut all: Vec<&str> = file.to_vec();
        all.extend(args);
        let out = train_and_rerun(tag, &all);
        assert!(
            out.contains("model and figures bit-identical"),
            "{tag}: {out}"
        );
    }
    // a teacher's data are made again from the seed
    let out = train_and_rerun("teacher", &["--teacher", "3-3-2", "--method", "lbfgs"]);
    assert!(out.contains("bit-identical"), "{out}");
    // the linear models and the perceptron, from `train` and from their own commands
    let out = train_and_rerun(
        "ridge",
        &[
            "--data",
            "diabetes",
            "--method",
            "ridge",
            "--alpha",
            "0.5",
            "--standardize",
            "--test-fraction",
            "0.2",
        ],
    );
    assert!(out.contains("model and figures bit-identical"), "{out}");
    for (tag, args) in [
        (
            "glm-logistic",
            vec![
                "glm",
                "--model",
                "logistic",
                "--data",
                "iris",
                "--standardize",
            ],
        ),
        (
            "glm-lasso",
            vec![
                "glm",
                "--model",
                "lasso",
                "--data",
                "diabetes",
                "--solver",
                "first-order",
            ],
        ),
        (
            "glm-svm",
            vec![
                "glm",
                "--model",
                "svm",
                "--data",
                "breast_cancer",
                "--c",
                "0.1",
            ],
        ),
        ("perceptron", vec!["perceptron", "--data", "iris"]),
    ] {
        let report = dir().join(format!("{tag}-report.json"));
        let model = dir().join(format!("{tag}-model.json"));
        let mut all = args.clone();
        all.extend(["--report", s(&report), "--model-out", s(&model)]);
        succeed(&all);
        let again = dir().join(format!("{tag}-again.json"));
        let out = succeed(&["rerun", s(&report), "--model-out", s(&again)]);
        let out = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.contains("model and figures bit-identical"),
            "{tag}: {out}"
        );
        assert_eq!(
            std::fs::read(&model).unwrap(),
            std::fs::read(&again).unwrap(),
            "{tag}"
        );
    }
}

#[cfg(feature = "milp")]
#[test]
fn exact_training_reruns_bit_for_bit() {
    let out = train_and_rerun(
        "milp",
        &[
            "--teacher",
            "2-2-1",
            "--n",
            "12",
            "--method",
            "milp",
            "--weight-bound",
            "5",
            "--time-limit",
            "60",
        ],
    );
    assert!(out.contains("model and figures bit-identical"), "{out}");
}

#[test]
fn a_report_whose_data_changed_is_refused_by_name() {
    let data = dir().join("changing.csv");
    succeed(&[
        "generate",
        "teacher",
        "--arch",
        "2-2-1",
        "--n",
        "10",
        "--out",
        s(&data),
    ]);
    let report = dir().join("changing-report.json");
    succeed(&[
        "train",
        "--data",
        s(&data),
        "--arch",
        "2-2-1",
        "--method",
        "lbfgs",
        "--report",
        s(&report),
        "--model-out",
        s(&dir().join("changing-model.json")),
    ]);
    // one number of one sample changes
    let text = std::fs::read_to_string(&data).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[1] = lines[1].replacen('0', "1", 1);
    std::fs::write(&data, lines.join("\n") + "\n").unwrap();
    let out = cvxnn(&["rerun", s(&report)]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the data changed since the report") && err.contains(s(&data)),
        "{err}"
    );
    // a report of another kind is refused too
    let out = cvxnn(&["rerun", s(&data)]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn the_demo_report_reruns_every_start() {
    let report = dir().join("demo.json");
    let plot = dir().join("demo.svg");
    succeed(&[
        "demo",
        "--report",
        s(&report),
        "--plot",
        s(&plot),
        "--max-iter",
        "6",
    ]);
    let out = succeed(&["rerun", s(&report)]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.matches("model and figures bit-identical").count(),
        3,
        "{text}"
    );
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let inits: Vec<&str> = r["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|run| run["request"]["start"]["init"].as_str().unwrap())
        .collect();
    assert_eq!(inits, ["perturbed", "random", "zero"]);
}

/// The request's `threads` is the budget of every kernel of the run: the convex model's sampled
/// program (products over threaded blocks of samples) and Adam's passes train the same models
/// bit for bit on 1 and 2 threads; the resolved request keeps the key; 0 is refused by name.
#[test]
fn the_requests_threads_change_no_bit_of_the_model() {
    use cvxnn::request::RunRequest;
    let train = |method: &str, threads: usize| {
        let text = format!(
            r#"
                method = "{method}"
                threads = {threads}
                arch = "5-200-1"
                data = {{ teacher = "5-4-1", n = 6000, noise = 0.1 }}
                {}
            "#,
            if method == "convex" {
                "convex = { weight_decay = 1e-2, patterns = 30, gap_tol = 1e-6 }"
            } else {
                "gradient = { max_iter = 20 }"
            }
        );
        let trained = RunRequest::from_toml(&text)
            .unwrap()
            .prepare(None)
            .unwrap()
            .run_quietly()
            .unwrap();
        assert_eq!(trained.request.threads, Some(threads));
        trained.model.expect("a model").to_json().unwrap()
    };
    for method in ["convex", "adam"] {
        assert_eq!(train(method, 1), train(method, 2), "{method}");
    }
    let err =
        RunRequest::from_toml("method = \"adam\"\nthreads = 0\ndata = { teacher = \"2-2-1\" }")
            .unwrap()
            .prepare(None)
            .err()
            .expect("threads = 0 is refused")
            .to_string();
    assert!(
        err.contains("threads") && err.contains("at least 1"),
        "{err}"
    );
}
