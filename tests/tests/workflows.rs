//! The grading that runs on other machines, run on this one, command by
//! command: the GitHub Actions workflow students' repositories run
//! (`.github/workflows/grade.yml`; `.ci/run` lints it with
//! check-jsonschema's github-workflows schema) and Gradescope's
//! `.gradescope/setup.sh` and `run_autograder`.
//!
//! The workflow's `run:` scripts run here in its order, in bash as GitHub
//! runs them (`bash --noprofile --norc -eo pipefail`), with the runner's
//! files (`GITHUB_OUTPUT`, `GITHUB_ENV`) and, in front of PATH, stand-ins
//! for what is the runner's and not ours to change: `sudo tee` writes the
//! udev rule into a directory of the test, `udevadm` is only noted, and
//! `docker run … IMAGE COMMAND…` runs COMMAND here (this machine is the
//! image's Debian 12 with Rust). Its `uses:` steps are the platform's
//! (checkout, cache, artifacts: here the files stay where they are; the
//! reporter: mirrored from its source, as in xtask's platforms tests).

use base64::Engine;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use yaml_rust2::{Yaml, YamlLoader};

/// One grading at a time: both tests run `cargo xtask check`.
static GRADING: Mutex<()> = Mutex::new(());

fn root() -> PathBuf {
    xtask::root()
}

fn steps() -> Vec<String> {
    let course = xtask::course::Course::load().unwrap();
    course.step.iter().map(|s| s.id.clone()).collect()
}

/// The runner's stand-ins (see the module's doc), in a directory to put
/// first on PATH; what they were asked is appended to `log`.
fn stand_ins(dir: &Path) {
    let scripts = [
        (
            "sudo",
            r#"#!/bin/sh
echo "sudo $*" >> "$STAND_IN_LOG"
case "$1" in
    tee) shift; cat > "$STAND_IN_ROOT/$(basename "$1")" ;;
    *) exec "$@" ;;
esac
"#,
        ),
        (
            "udevadm",
            "#!/bin/sh\necho \"udevadm $*\" >> \"$STAND_IN_LOG\"\n",
        ),
        (
            "docker",
            r#"#!/bin/sh
echo "docker $*" >> "$STAND_IN_LOG"
[ "$1" = run ] || { echo "docker stand-in: only run" >&2; exit 99; }
shift
while [ $# -gt 0 ]; do
    case "$1" in
        --rm) shift ;;
        --device|-v|-w) shift 2 ;;
        -e) export "$2"; shift 2 ;;
        -*) echo "docker stand-in: unknown option $1" >&2; exit 99 ;;
        *) break ;;
    esac
done
echo "image $1" >> "$STAND_IN_LOG"
shift
exec "$@"
"#,
        ),
    ];
    for (name, text) in scripts {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// `text` with its `${{ … }}` expressions replaced from `values`; an
/// expression the test does not know fails it.
fn substitute(text: &str, values: &BTreeMap<&str, String>) -> String {
    let re = regex::Regex::new(r"\$\{\{\s*([^}]*?)\s*\}\}").unwrap();
    re.replace_all(text, |c: &regex::Captures| {
        values
            .get(&c[1])
            .cloned()
            .unwrap_or_else(|| panic!("the test does not know the expression {}", &c[0]))
    })
    .into_owned()
}

/// The `key=value` lines of a runner's file.
fn runner_file(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A runner result, decoded as the reporter decodes it (src/main.js:
/// `Buffer.from(encodedResults, "base64").toString("utf-8")`, `JSON.parse`).
fn decode(encoded: &str) -> serde_json::Value {
    let json = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .expect("base64");
    serde_json::from_slice(&json).expect("JSON")
}

struct Job<'a> {
    name: &'a str,
    /// The `uses:` of its steps, in order.
    uses: Vec<String>,
    output: BTreeMap<String, String>,
    env: BTreeMap<String, String>,
}

/// Run the `run:` steps of the workflow's job `name` here, in order.
fn run_job<'a>(
    workflow: &Yaml,
    name: &'a str,
    values: &BTreeMap<&str, String>,
    dir: &Path,
) -> Job<'a> {
    let job = &workflow["jobs"][name];
    assert!(!job.is_badvalue(), "no job {name}");
    let output = dir.join(format!("{name}.output"));
    let env_file = dir.join(format!("{name}.env"));
    let mut uses = Vec::new();
    for step in job["steps"].as_vec().unwrap() {
        if let Some(action) = step["uses"].as_str() {
            uses.push(action.split('@').next().unwrap().to_string());
            continue;
        }
        let script = step["run"].as_str().expect("a step runs or uses");
        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c"])
            .arg(substitute(script, values))
            .current_dir(root())
            .env(
                "PATH",
                format!("{}:{}", dir.display(), std::env::var("PATH").unwrap()),
            )
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_ENV", &env_file)
            .env("STAND_IN_LOG", dir.join("stand-ins.log"))
            .env("STAND_IN_ROOT", dir);
        if let Some(env) = step["env"].as_hash() {
            for (k, v) in env {
                cmd.env(k.as_str().unwrap(), substitute(v.as_str().unwrap(), values));
            }
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success() || (name == "grade" && out.status.code() == Some(1)),
            "job {name}, step {:?}: {}\n{}{}",
            step["name"].as_str(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Job {
        name,
        uses,
        output: runner_file(&output),
        env: runner_file(&env_file),
    }
}

#[test]
fn the_grading_workflow_runs_here_command_by_command() {
    let _one = GRADING.lock().unwrap_or_else(|e| e.into_inner());
    let text = std::fs::read_to_string(root().join(".github/workflows/grade.yml")).unwrap();
    let workflow = YamlLoader::load_from_str(&text).unwrap().remove(0);
    let jobs: Vec<&str> = workflow["jobs"]
        .as_hash()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(jobs, ["steps", "grade", "report"]);
    let dir = tempfile::tempdir().unwrap();
    stand_ins(dir.path());
    let grade_dir = root().join("target/grade");
    let _ = std::fs::remove_dir_all(&grade_dir);

    // The steps, from course.toml.
    let mut values = BTreeMap::new();
    let list = run_job(&workflow, "steps", &values, dir.path());
    assert_eq!(list.uses, ["actions/checkout"]);
    let ids: Vec<String> = serde_json::from_str(&list.output["steps"]).unwrap();
    assert_eq!(ids, steps());

    // One runner of the matrix: the first step.
    let step = ids[0].clone();
    values.insert("matrix.step", step.clone());
    values.insert("needs.steps.outputs.steps", list.output["steps"].clone());
    let grade = run_job(&workflow, "grade", &values, dir.path());
    assert_eq!(
        grade.uses,
        [
            "actions/checkout",
            "actions/cache",
            "actions/upload-artifact"
        ],
        "{}: a new action the test does not stand in for",
        grade.name
    );
    let log = std::fs::read_to_string(dir.path().join("stand-ins.log")).unwrap();
    if Path::new("/dev/kvm").exists() {
        let rule = std::fs::read_to_string(dir.path().join("99-kvm4all.rules")).unwrap();
        assert!(rule.contains(r#"KERNEL=="kvm""#) && rule.contains(r#"MODE="0666""#));
        assert!(log.contains("udevadm trigger --name-match=kvm"), "{log}");
        assert!(log.contains("docker run --rm --device /dev/kvm "), "{log}");
    } else {
        assert!(log.contains("docker run --rm -v "), "{log}");
    }
    assert!(log.contains("image rust:1-bookworm"), "{log}");
    assert!(log.contains("-e GIT_CONFIG_KEY_0=safe.directory"), "{log}");
    let encoded = std::fs::read_to_string(grade_dir.join(format!("{step}.txt"))).unwrap();
    let result = decode(&encoded);
    assert_eq!(result["version"], 1);
    assert_eq!(result["tests"].as_array().unwrap().len(), 1);
    assert!(
        ["pass", "fail"].contains(&result["status"].as_str().unwrap()),
        "{result}"
    );

    // The report: the graded step's result, and an error for each step
    // whose runner left none (here, those the test did not grade).
    let report = run_job(&workflow, "report", &values, dir.path());
    assert_eq!(
        report.uses,
        [
            "actions/checkout",
            "actions/download-artifact",
            "classroom-resources/autograding-grading-reporter"
        ]
    );
    let runners = &report.output["runners"];
    assert_eq!(runners, &ids.join(","));
    // src/main.js: the input "must be a comma-separated list of strings",
    //   const pattern = /^([a-zA-Z0-9]+,)*[a-zA-Z0-9]+$/
    assert!(
        regex::Regex::new(r"^([a-zA-Z0-9]+,)*[a-zA-Z0-9]+$")
            .unwrap()
            .is_match(runners)
    );
    for runner in runners.split(',') {
        // src/main.js: process.env[`${runner.trim().toUpperCase()}_RESULTS`]
        let encoded = &report.env[&format!("{}_RESULTS", runner.trim().to_uppercase())];
        let result = decode(encoded);
        assert_eq!(result["version"], 1);
        assert!(result["max_score"].as_u64().unwrap() > 0, "{result}");
        if runner == step {
            assert_eq!(
                result,
                decode(&std::fs::read_to_string(grade_dir.join(format!("{step}.txt"))).unwrap())
            );
        } else {
            assert_eq!(result["status"], "error", "{result}");
            assert_eq!(result["tests"][0]["status"], "error");
            assert_eq!(result["tests"][0]["line_no"], 0);
        }
    }
    let _ = std::fs::remove_dir_all(&grade_dir);
}

#[test]
fn gradescope_setup_and_run_autograder_run_here() {
    let _one = GRADING.lock().unwrap_or_else(|e| e.into_inner());
    let autograder = tempfile::tempdir().unwrap();
    let a = autograder.path();
    std::os::unix::fs::symlink(root(), a.join("source")).unwrap();
    let script = |name: &str| {
        let out = Command::new(root().join(".gradescope").join(name))
            .env("AUTOGRADER", a)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let results = || -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(a.join("results/results.json")).unwrap())
            .unwrap()
    };

    script("setup.sh");

    // A submission without exercises: a grade of 0 that says why.
    std::fs::create_dir_all(a.join("submission")).unwrap();
    script("run_autograder");
    let empty = results();
    assert_eq!(empty["score"], 0);
    assert!(empty["output"].as_str().unwrap().contains("exercises/"));

    // The course's own exercises as the submission (the same files: the
    // checkout is not changed): every step graded.
    let status = Command::new("cp")
        .arg("-R")
        .arg(root().join("exercises"))
        .arg(a.join("submission"))
        .status()
        .unwrap();
    assert!(status.success());
    script("run_autograder");
    let graded = results();
    let tests = graded["tests"].as_array().unwrap();
    assert_eq!(tests.len(), steps().len(), "{graded}");
    for test in tests {
        assert!(["passed", "failed"].contains(&test["status"].as_str().unwrap()));
        assert_eq!(test["output_format"], "md");
    }
    assert!(graded["score"].is_number());
}

/// The dev container (`.devcontainer/`): this machine has no Docker to
/// build it, so what can be checked here is: its JSON, that it installs
/// every package xtask would fetch for the VM, that the command it runs
/// is the README's, and its KVM script, with `sudo` only noted.
#[test]
fn the_dev_container_is_what_the_readme_and_the_lab_say() {
    let dir = root().join(".devcontainer");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("devcontainer.json")).unwrap())
            .unwrap();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let command = json["postCreateCommand"].as_str().unwrap();
    assert!(readme.contains(command), "{command} is not the README's");
    assert!(
        json["runArgs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "--device-cgroup-rule=c 10:232 rwm")
    );
    // Every Debian package the lab fetches (xtask/src/lab/host.rs), in the image.
    let dockerfile = std::fs::read_to_string(dir.join("Dockerfile")).unwrap();
    assert!(dockerfile.contains("bookworm"));
    let host = std::fs::read_to_string(root().join("xtask/src/lab/host.rs")).unwrap();
    let packages: Vec<&str> = regex::Regex::new(r#"package: "([^"]+)""#)
        .unwrap()
        .captures_iter(&host)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    assert!(packages.len() >= 5, "{packages:?}");
    for package in packages {
        assert!(
            dockerfile.contains(package),
            "the dev container lacks {package}"
        );
    }
    // Its KVM script, run here: sudo only noted (it must not change this
    // machine's /dev), and it says which way the VMs will run.
    let stand_in = tempfile::tempdir().unwrap();
    let sudo = stand_in.path().join("sudo");
    std::fs::write(&sudo, "#!/bin/sh\necho \"sudo $*\" >> \"$STAND_IN_LOG\"\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&sudo, std::fs::Permissions::from_mode(0o755)).unwrap();
    let post_start = json["postStartCommand"].as_str().unwrap();
    let out = Command::new("sh")
        .args(["-c", post_start])
        .current_dir(root())
        .env(
            "PATH",
            format!(
                "{}:{}",
                stand_in.path().display(),
                std::env::var("PATH").unwrap()
            ),
        )
        .env("STAND_IN_LOG", stand_in.path().join("log"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stdout);
    let opens = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_ok();
    match opens {
        true => assert!(said.contains("the VMs run under KVM"), "{said}"),
        false => assert!(said.contains("software emulation (TCG)"), "{said}"),
    }
}
