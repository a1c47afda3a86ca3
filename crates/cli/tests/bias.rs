//! `scrivo bias ...`, biased transcription and the biasing evaluations, end to end.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scrivo(lists: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scrivo")).current_dir(repo()).env("SCRIVO_BIAS_DIR", lists).args(args).output().expect("run scrivo")
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "stdout: {}\nstderr: {}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn shared(rel: &str) -> Option<PathBuf> {
    let p = repo().join("../shared").join(rel);
    if !p.exists() {
        eprintln!("SKIP: ../shared/{rel} not found");
        return None;
    }
    Some(p)
}

#[test]
fn lists_are_edited_saved_and_checked() {
    let dir = tempfile::tempdir().expect("dir");
    let lists = dir.path();
    ok(&scrivo(lists, &["bias", "add", "Team", "Kubernetes", "--sounds-like", "cube nettys", "--note", "orchestrator"]));
    ok(&scrivo(lists, &["bias", "add", "Team", "Anja Schmidt"]));
    let file = lists.join("team.toml");
    let text = std::fs::read_to_string(&file).expect("saved");
    assert!(text.contains("term = \"Kubernetes\"") && text.contains("cube nettys"), "{text}");
    assert!(ok(&scrivo(lists, &["bias", "show", "team"])).contains("Anja Schmidt"));
    assert!(ok(&scrivo(lists, &["bias", "list"])).contains("2 terms"));

    let applied = ok(&scrivo(lists, &["bias", "apply", "ask anja schmidt to restart cube nettys"]));
    assert_eq!(applied.trim(), "ask Anja Schmidt to restart Kubernetes");
    let json: serde_json::Value = serde_json::from_str(&ok(&scrivo(lists, &["bias", "apply", "--json", "restart cube nettys"]))).expect("json");
    assert_eq!(json["changes"][0]["original"], "cube nettys");
    assert_eq!(json["changes"][0]["kind"], "sounds_like");

    // Removing keeps the previous version beside the file.
    ok(&scrivo(lists, &["bias", "remove", "Team", "kubernetes"]));
    assert!(std::fs::read_to_string(lists.join("team.toml.bak")).expect("backup").contains("Kubernetes"));
    assert!(!scrivo(lists, &["bias", "remove", "Team", "kubernetes"]).status.success());

    // Export and import through CSV.
    let csv = dir.path().join("out.csv");
    ok(&scrivo(lists, &["bias", "export", "Team", csv.to_str().expect("utf8")]));
    ok(&scrivo(lists, &["bias", "import", "Other", csv.to_str().expect("utf8")]));
    assert!(ok(&scrivo(lists, &["bias", "show", "Other"])).contains("Anja Schmidt"));

    // A disabled list is not applied.
    ok(&scrivo(lists, &["bias", "disable", "Team"]));
    ok(&scrivo(lists, &["bias", "disable", "Other"]));
    assert_eq!(ok(&scrivo(lists, &["bias", "apply", "ask anja schmidt"])).trim(), "ask anja schmidt");
}

#[test]
fn check_reports_every_problem_with_its_place() {
    let dir = tempfile::tempdir().expect("dir");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "name = \"x\"\n[[entry]]\nterm = \"Tauri\"\n[[entry]]\nterm = \"tauri\"\n[[entry]]\nterm = \"\"\n").expect("write");
    let out = scrivo(dir.path(), &["bias", "check", bad.to_str().expect("utf8")]);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("bad.toml:5:8: duplicate term \"tauri\" (first on line 3)"), "{text}");
    assert!(text.contains("bad.toml:7:8: empty term"), "{text}");
    let example = repo().join("biasing-lists/software-engineering.toml");
    assert!(ok(&scrivo(dir.path(), &["bias", "check", example.to_str().expect("utf8")])).starts_with("ok"));
}

#[test]
fn eval_bias_on_librispeech_lists_fixes_more_than_it_breaks() {
    let Some(cases) = shared("eval/biasing/librispeech-test-other.tsv") else { return };
    let dir = tempfile::tempdir().expect("dir");
    // The guards alone on every row (the context check reads each candidate's sentence with
    // the language model: minutes here; it has its own test below on fewer rows).
    let out = ok(&scrivo(dir.path(), &["eval", "bias", "--cases", cases.to_str().expect("utf8"), "--no-bias-context", "--json"]));
    let r: serde_json::Value = serde_json::from_str(&out).expect("json");
    let f = |k: &str| r[k].as_f64().expect(k);
    assert!(f("wer_after") < f("wer_before"), "{out}");
    assert!(f("rare_word_recall_after") > f("rare_word_recall_before"), "{out}");
    let clean = &r["clean_rows"];
    let rise = clean["wer_after"].as_f64().expect("after") - clean["wer_before"].as_f64().expect("before");
    assert!(rise <= 0.001, "WER on rows with no missed rare word rose by {:.3} points", rise * 100.0);
}

fn polishing_model_installed() -> bool {
    let ok = repo().join("models/smollm2-135m-instruct-q8_0.gguf").is_file();
    if !ok {
        eprintln!("SKIP: models/smollm2-135m-instruct-q8_0.gguf not installed (`make test` installs it)");
    }
    ok
}

/// The context check (SmolLM2) recovers more rare words than the guards alone on the same
/// rows, and breaks no more on the rows that had nothing to fix.
#[test]
fn context_check_recovers_more_rare_words_than_the_guards_alone() {
    let Some(cases) = shared("eval/biasing/librispeech-test-other.tsv") else { return };
    if !polishing_model_installed() {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let run = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["eval", "bias", "--cases", cases.to_str().expect("utf8"), "--limit", "300", "--json"];
        args.extend_from_slice(extra);
        serde_json::from_str(&ok(&scrivo(dir.path(), &args))).expect("json")
    };
    let (context, guards) = (run(&[]), run(&["--no-bias-context"]));
    assert_eq!(context["context_check"], true);
    assert_eq!(guards["context_check"], false);
    let f = |r: &serde_json::Value, k: &str| r[k].as_f64().expect(k);
    assert!(f(&context, "rare_word_recall_after") > f(&guards, "rare_word_recall_after"), "context {context}\nguards {guards}");
    assert!(f(&context["clean_rows"], "wer_after") <= f(&guards["clean_rows"], "wer_after"), "context {context}\nguards {guards}");
}

/// "lover" and "lever" sound alike: the sentence decides.
#[test]
fn context_check_changes_a_common_word_only_where_the_term_fits() {
    if !polishing_model_installed() {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let lists = dir.path();
    ok(&scrivo(lists, &["bias", "add", "Tools", "lever"]));
    let fits = ok(&scrivo(lists, &["bias", "apply", "he reached down and pulled the lover hard"]));
    assert_eq!(fits.trim(), "he reached down and pulled the lever hard");
    let stays = ok(&scrivo(lists, &["bias", "apply", "she wrote a long letter to her lover"]));
    assert_eq!(stays.trim(), "she wrote a long letter to her lover");
    let guards = ok(&scrivo(lists, &["bias", "apply", "--no-bias-context", "he reached down and pulled the lover hard"]));
    assert_eq!(guards.trim(), "he reached down and pulled the lover hard", "the guards alone keep a common word");
}

#[test]
fn eval_overcorrect_on_earnings21_stays_under_one_per_10k_words() {
    let (Some(turns), Some(list), Some(entities)) = (
        shared("eval/text/earnings21.turns_verbatim.tsv"),
        shared("eval/biasing/earnings21/distractor_list.txt"),
        shared("eval/biasing/earnings21/oracle_list.txt"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let out = ok(&scrivo(
        dir.path(),
        &["eval", "overcorrect", "--turns", turns.to_str().expect("utf8"), "--list", list.to_str().expect("utf8"), "--entities", entities.to_str().expect("utf8"), "--json"],
    ));
    let r: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert!(r["not_entity_per_10k_words"].as_f64().expect("rate") <= 1.0, "{out}");
}

/// `sentence` spoken by espeak-ng into `dir/speech.wav`, when the default speech model and
/// espeak-ng are installed (a notice and `None` otherwise).
fn spoken(dir: &Path, sentence: &str) -> Option<PathBuf> {
    if !repo().join("models/ggml-tiny.en-q8_0.bin").is_file() {
        eprintln!("SKIP: default model not installed (`make test` installs it)");
        return None;
    }
    let wav = dir.join("speech.wav");
    let status = Command::new("espeak-ng").args(["-v", "en-us", "-s", "150", "-w"]).arg(&wav).arg(sentence).status();
    if !status.is_ok_and(|s| s.success()) {
        eprintln!("SKIP: espeak-ng is not installed (`make test` installs it)");
        return None;
    }
    Some(wav)
}

/// espeak-ng says a sentence with a term tiny.en cannot know; the list puts it right.
#[test]
fn transcription_uses_the_enabled_lists() {
    let dir = tempfile::tempdir().expect("dir");
    let Some(wav) = spoken(dir.path(), "We moved the whole build to Camerfirma last week.") else { return };
    let lists = dir.path().join("lists");
    let plain = ok(&scrivo(&lists, &["transcribe", "--no-polish", "--out", "-", wav.to_str().expect("utf8")]));
    assert!(!plain.contains("Camerfirma"), "{plain}");
    ok(&scrivo(&lists, &["bias", "add", "Companies", "Camerfirma"]));
    let biased = ok(&scrivo(&lists, &["transcribe", "--no-polish", "--out", "-", wav.to_str().expect("utf8")]));
    assert!(biased.contains("Camerfirma"), "{biased}");
    let off = ok(&scrivo(&lists, &["transcribe", "--no-bias", "--no-polish", "--out", "-", wav.to_str().expect("utf8")]));
    assert_eq!(off, plain);
}

/// espeak-ng says "Asana", tiny.en hears "us on": the text's rules leave the change (a function
/// word the term lacks, the context unsure), the recogniser finds the sentence with "Asana"
/// nearly as likely for the audio and puts it in.
#[test]
fn the_recogniser_puts_in_a_term_the_text_leaves() {
    let dir = tempfile::tempdir().expect("dir");
    let Some(wav) = spoken(dir.path(), "Our customers keep asking about Asana in their emails.") else { return };
    let lists = dir.path().join("lists");
    ok(&scrivo(&lists, &["bias", "add", "Tools", "Asana"]));
    let without = ok(&scrivo(&lists, &["transcribe", "--no-polish", "--no-bias-ear", "--no-bias-refocus", "--out", "-", wav.to_str().expect("utf8")]));
    assert!(!without.contains("Asana"), "{without}");
    let with = ok(&scrivo(&lists, &["transcribe", "--no-polish", "--no-bias-refocus", "--out", "-", wav.to_str().expect("utf8")]));
    assert!(with.contains("about Asana in"), "{with}");
}

/// A 100-term list (the audio check's seed 10: 40 spoken terms and 60 distractors): whisper's
/// glossary prompt holds about half of it.
const SEED_10_TERMS: &str = "Abiomed Agilent Alstom Altri Ambientia Ameriprise Ansible Ansteel Auckland Autoware Bahls Bankin \
    Bertelsmann Brands Camerfirma Campbell Caremark Central Checkov Chevron Chubu Cloudera Continental Cornell Daimler Dexia \
    Donnelley Dubbo Ducati Durham Electronic Ethereum Finance Flextronics Gadjah GameStop Giphy Grafana Grill Hertz Holdings \
    Huaneng HubSpot Huntington Imperva InSpec Infomaniak Ingram Kaisha Kibana Kimco KupiVIP Landesbank Lazygit Leggett Librato \
    Livox Loughborough Madras Markets Matheson Mattermost Medco Mercari Molina Musixmatch Nagios Newell Nucor Octicons OpenCL \
    OpenNebula OpenSSL Paper Partners Paylocity PerfView Qorvo Qualcomm Quintiles Raymond Redis Residential Rover Spirent \
    Swinburne Sysco Systems Tapestry Trakt Trello Trivy Tyler Universal Utilities Vinci Visteon Waterloo WellPoint Zurich";

/// espeak-ng says "WellPoint" among a 100-term list; the first decode hears "Alpine Class
/// Week", which no rule can take back to the term. The words sound near it ("whole build",
/// 0.55), so the piece is decoded again prompted with WellPoint alone, and the recogniser,
/// unprompted, finds that text likely enough for the audio.
#[test]
fn a_piece_decoded_again_with_the_terms_it_sounds_near() {
    let dir = tempfile::tempdir().expect("dir");
    let Some(wav) = spoken(dir.path(), "We moved the whole build to WellPoint last week.") else { return };
    let lists = dir.path().join("lists");
    let terms = dir.path().join("terms.txt");
    std::fs::write(&terms, SEED_10_TERMS.split_whitespace().collect::<Vec<_>>().join("\n")).expect("write terms");
    ok(&scrivo(&lists, &["bias", "import", "Companies", terms.to_str().expect("utf8")]));
    let once = ok(&scrivo(&lists, &["transcribe", "--no-polish", "--no-bias-refocus", "--out", "-", wav.to_str().expect("utf8")]));
    assert!(!once.contains("WellPoint"), "{once}");
    let again = ok(&scrivo(&lists, &["transcribe", "--no-polish", "--out", "-", wav.to_str().expect("utf8")]));
    assert!(again.contains("build to WellPoint last week"), "{again}");
}
