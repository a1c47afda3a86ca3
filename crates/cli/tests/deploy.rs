//! The cluster files in `deploy/` parse and agree with the CLI: the Dockerfile's instructions,
//! the Kubernetes Indexed Job's fields and shard count, the Slurm script's syntax and flags. No
//! Docker engine or cluster is needed.

use std::path::{Path, PathBuf};
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(deploy().join(name)).unwrap_or_else(|e| panic!("deploy/{name}: {e}"))
}

/// Instructions of a Dockerfile as (keyword, arguments), continuation lines joined, comments and
/// blank lines left out.
fn dockerfile_instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        if trimmed.starts_with('#') {
            continue; // a comment inside a continued instruction
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                let (keyword, args) = current.split_once(char::is_whitespace).unwrap_or((current.as_str(), ""));
                out.push((keyword.to_owned(), args.trim().to_owned()));
                current.clear();
            }
        }
    }
    assert!(current.is_empty(), "the Dockerfile ends inside a continued line: {current}");
    out
}

#[test]
fn the_dockerfile_builds_with_make_and_fetches_the_models() {
    const KNOWN: [&str; 18] = [
        "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL",
        "HEALTHCHECK", "SHELL", "MAINTAINER",
    ];
    let instructions = dockerfile_instructions(&read("Dockerfile"));
    let first = instructions.iter().find(|(k, _)| k != "ARG").expect("instructions");
    assert_eq!(first.0, "FROM", "a Dockerfile starts with FROM");
    let mut stages = Vec::new();
    for (keyword, args) in &instructions {
        assert!(KNOWN.contains(&keyword.as_str()), "unknown instruction {keyword} {args}");
        assert_eq!(keyword, &keyword.to_uppercase(), "instructions are written in capitals: {keyword}");
        assert!(!args.is_empty(), "{keyword} without arguments");
        if keyword == "FROM" {
            if let Some((_, name)) = args.split_once(" AS ") {
                stages.push(name.trim().to_owned());
            }
        }
        if let Some(stage) = args.strip_prefix("--from=") {
            let stage = stage.split_whitespace().next().unwrap_or_default();
            assert!(stages.iter().any(|s| s == stage), "COPY --from={stage}: no stage of that name before it");
        }
        if matches!(keyword.as_str(), "ENTRYPOINT" | "CMD") && args.starts_with('[') {
            let parsed: Result<Vec<String>, _> = serde_json::from_str(args);
            assert!(parsed.is_ok(), "{keyword} {args}: the exec form must be a JSON array of strings");
        }
    }
    let runs: Vec<&str> = instructions.iter().filter(|(k, _)| k == "RUN").map(|(_, a)| a.as_str()).collect();
    assert!(runs.iter().any(|r| r.contains("make build")), "the image is built with make build: {runs:?}");
    assert!(runs.iter().any(|r| r.contains("scrivo models fetch")), "the image fetches the models: {runs:?}");
    let ignore = std::fs::read_to_string(deploy().join("../.dockerignore")).expect(".dockerignore");
    assert!(ignore.lines().any(|l| l.trim() == "target"), "the build context leaves out target/");
}

fn kubernetes_job() -> Yaml {
    let docs = YamlLoader::load_from_str(&read("kubernetes/transcribe-job.yaml")).expect("the manifest is YAML");
    assert_eq!(docs.len(), 1, "one document");
    docs.into_iter().next().expect("document")
}

#[test]
fn the_kubernetes_job_is_indexed_and_its_shard_count_is_its_completions() {
    let job = kubernetes_job();
    assert_eq!(job["apiVersion"].as_str(), Some("batch/v1"));
    assert_eq!(job["kind"].as_str(), Some("Job"));
    assert!(job["metadata"]["name"].as_str().is_some_and(|n| !n.is_empty()));
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"), "each pod needs JOB_COMPLETION_INDEX");
    let completions = spec["completions"].as_i64().expect("completions");
    assert!(spec["parallelism"].as_i64().is_some_and(|p| p >= 1 && p <= completions));
    let pod = &spec["template"]["spec"];
    assert!(matches!(pod["restartPolicy"].as_str(), Some("Never" | "OnFailure")), "a Job's pods cannot restart Always");
    let containers = pod["containers"].as_vec().expect("containers");
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    assert!(c["image"].as_str().is_some_and(|i| !i.is_empty()));
    let args: Vec<&str> = c["args"].as_vec().expect("args").iter().map(|a| a.as_str().expect("every argument is a string")).collect();
    assert_eq!(args.first(), Some(&"transcribe"));
    let shard = args.iter().position(|a| *a == "--shard").map(|i| args[i + 1]).expect("--shard");
    assert_eq!(shard, format!("auto/{completions}"), "the shard count must equal completions");
    assert!(args.contains(&"--skip-existing"), "a pod run again resumes");
    assert!(args.contains(&"--summary"));
    // $(VAR) in the arguments only expands variables the container defines.
    let defined: Vec<&str> = c["env"].as_vec().map(|e| e.iter().filter_map(|v| v["name"].as_str()).collect()).unwrap_or_default();
    for arg in &args {
        let mut rest = *arg;
        while let Some(at) = rest.find("$(") {
            let name = rest[at + 2..].split(')').next().unwrap_or_default();
            assert!(defined.contains(&name), "{arg}: $({name}) is not in the container's env");
            rest = &rest[at + 2..];
        }
    }
    // Every volume mounted is declared.
    let volumes: Vec<&str> = pod["volumes"].as_vec().expect("volumes").iter().filter_map(|v| v["name"].as_str()).collect();
    for mount in c["volumeMounts"].as_vec().expect("volumeMounts") {
        let name = mount["name"].as_str().expect("mount name");
        assert!(volumes.contains(&name), "volume {name} is mounted but not declared");
    }
}

#[test]
fn the_slurm_script_is_valid_bash_and_shards_by_its_array() {
    let path = deploy().join("slurm/transcribe-array.sbatch");
    let syntax = Command::new("bash").arg("-n").arg(&path).output().expect("bash");
    assert!(syntax.status.success(), "bash -n: {}", String::from_utf8_lossy(&syntax.stderr));
    let text = read("slurm/transcribe-array.sbatch");
    assert!(text.starts_with("#!/bin/bash"));
    assert!(text.lines().any(|l| l.starts_with("#SBATCH --array=")), "an array job");
    // #SBATCH lines are read only before the first command.
    let first_command = text.lines().position(|l| !l.trim().is_empty() && !l.starts_with('#')).expect("a command");
    assert!(text.lines().skip(first_command).all(|l| !l.starts_with("#SBATCH")), "#SBATCH after a command is ignored by sbatch");
    for flag in ["--shard \"auto/$SLURM_ARRAY_TASK_COUNT\"", "--skip-existing", "--summary"] {
        assert!(text.contains(flag), "the script passes {flag}");
    }
}

#[test]
fn the_cli_takes_the_flags_the_deploy_files_pass() {
    let out = Command::new(env!("CARGO_BIN_EXE_scrivo")).args(["transcribe", "--help"]).output().expect("run scrivo");
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in ["--shard", "--skip-existing", "--summary", "--threads", "--out", "--format"] {
        assert!(help.contains(flag), "scrivo transcribe has no {flag}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_scrivo")).args(["batch", "merge", "--help"]).output().expect("run scrivo");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
