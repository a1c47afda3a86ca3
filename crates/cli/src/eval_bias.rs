//! `scrivo eval bias` and `scrivo eval overcorrect`: what biasing lists fix and what they break.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use scrivo_bias::{ChangeKind, ContextModel, Corrector, Entry, Lexicon, Settings};
use scrivo_eval::{words_english, Table, WordErrors};
use serde::Serialize;

#[derive(Args)]
pub struct BiasArgs {
    /// TSV with `asr_hypothesis_baseline_rnnt` (or `hypothesis`), `reference`,
    /// `rare_words_in_ref`, `biasing_list_100` (JSON arrays) and `rare_word_missed_in_hyp`.
    #[arg(long)]
    pub cases: PathBuf,
    /// Only the first N rows.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Write `utt_id, before, after, reference, changes` for every changed row to this TSV.
    #[arg(long)]
    pub save_changes: Option<PathBuf>,
    /// Write every sound-alike candidate (guard, score, context verdict, whether it was made)
    /// to this TSV, one line each, with its row's `utt_id`.
    #[arg(long)]
    pub candidates: Option<PathBuf>,
    /// The lowest score a candidate written by `--candidates` has (each one is judged by the
    /// context model, so a low score makes a slow run).
    #[arg(long, default_value_t = crate::bias_cmd::EXPLAIN_MIN_SCORE, requires = "candidates")]
    pub candidates_min_score: f64,
    #[command(flatten)]
    pub context: crate::bias_cmd::ContextArgs,
    /// Change a corrector setting from what the list's size gives (e.g. `context_floor=0.6`).
    /// Several values (`context_floor=0.5,0.6`), or several settings with several values, print
    /// one line per combination instead, the context model asked once per span for all of them.
    #[arg(long = "set", value_name = "NAME=VALUE[,VALUE...]")]
    pub set: Vec<String>,
    /// Only the rows K, K+N, K+2N... (`K/N`): choose settings on some folds, report on another.
    #[arg(long, value_name = "K/N")]
    pub fold: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct OvercorrectArgs {
    /// TSV with a `text_verbatim` column (text that is right as it stands).
    #[arg(long)]
    pub turns: PathBuf,
    /// The biasing list: .txt (one term per line), .csv or .toml.
    #[arg(long)]
    pub list: PathBuf,
    /// The entities that really occur in the text (same formats): an altering change to one of
    /// them is a respelling of a listed entity; any other altering change is an over-correction.
    #[arg(long)]
    pub entities: Option<PathBuf>,
    #[command(flatten)]
    pub context: crate::bias_cmd::ContextArgs,
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize, Default)]
struct Split {
    rows: usize,
    wer_before: f64,
    wer_after: f64,
}

#[derive(Serialize)]
struct BiasReport {
    rows: usize,
    wer_before: f64,
    wer_after: f64,
    /// Rows where the hypothesis missed a rare word: share of their rare words present.
    rare_word_recall_before: f64,
    rare_word_recall_after: f64,
    rare_words: usize,
    missed_rows: Split,
    /// Rows where the hypothesis missed no rare word: any change there is over-correction.
    clean_rows: Split,
    changes: usize,
    /// Whether sound-alikes were judged by the language model's context check.
    context_check: bool,
    seconds: f64,
}

fn json_words(cell: &str, what: &str, line: usize) -> Result<Vec<String>> {
    serde_json::from_str(cell).with_context(|| format!("row {line}: `{what}` is not a JSON array of strings"))
}

fn present(rare: &[String], hypothesis: &str) -> usize {
    let words = words_english(hypothesis);
    rare.iter().filter(|r| words_english(r).iter().all(|w| words.contains(w))).count()
}

/// One row of the cases file.
struct Case {
    utt_id: String,
    hypothesis: String,
    reference: String,
    rare: Vec<String>,
    list: Vec<Entry>,
    missed: bool,
}

fn read_cases(args: &BiasArgs) -> Result<Vec<Case>> {
    let table = Table::read(&args.cases)?;
    let hyp_col = if table.has("hypothesis") { "hypothesis" } else { "asr_hypothesis_baseline_rnnt" };
    for c in [hyp_col, "reference", "rare_words_in_ref", "biasing_list_100", "rare_word_missed_in_hyp"] {
        table.require(c)?;
    }
    let fold = args.fold.as_deref().map(|f| scrivo_batch::Shard::parse(f, |_| None).map_err(|e| anyhow::anyhow!(e.replace("--shard", "--fold")))).transpose()?;
    let mut cases = Vec::new();
    for (i, row) in table.rows().enumerate().take(args.limit.unwrap_or(usize::MAX)) {
        if fold.is_some_and(|f| i % f.count != f.index) {
            continue;
        }
        let line = i + 2;
        cases.push(Case {
            utt_id: row.optional("utt_id").unwrap_or("").to_owned(),
            hypothesis: row.get(hyp_col)?.to_owned(),
            reference: row.get("reference")?.to_owned(),
            rare: json_words(row.get("rare_words_in_ref")?, "rare_words_in_ref", line)?,
            list: json_words(row.get("biasing_list_100")?, "biasing_list_100", line)?.into_iter().map(Entry::new).collect(),
            missed: row.get("rare_word_missed_in_hyp")?.trim() == "1",
        });
    }
    Ok(cases)
}

/// `--set NAME=V1,V2,...` as (name, values), checked against the settings there are.
fn parse_sets(sets: &[String]) -> Result<Vec<(String, Vec<f64>)>> {
    sets.iter()
        .map(|s| {
            let (name, values) = s.split_once('=').with_context(|| format!("--set {s}: expected NAME=VALUE[,VALUE...]"))?;
            set_setting(&mut Settings::for_terms(100), name, 0.0).with_context(|| format!("--set {s}"))?;
            let values = values.split(',').map(|v| v.trim().parse::<f64>().with_context(|| format!("--set {s}: {v} is not a number"))).collect::<Result<_>>()?;
            Ok((name.to_owned(), values))
        })
        .collect()
}

fn set_setting(settings: &mut Settings, name: &str, value: f64) -> Result<()> {
    let field = match name {
        "threshold" => &mut settings.threshold,
        "short_threshold" => &mut settings.short_threshold,
        "name_threshold" => &mut settings.name_threshold,
        "common_threshold" => &mut settings.common_threshold,
        "merge_threshold" => &mut settings.merge_threshold,
        "word_threshold" => &mut settings.word_threshold,
        "context_floor" => &mut settings.context_floor,
        "context_margin" => &mut settings.context_margin,
        "context_veto" => &mut settings.context_veto,
        "context_admit" => &mut settings.context_admit,
        "context_admit_margin" => &mut settings.context_admit_margin,
        "unknown_floor" => &mut settings.unknown_floor,
        "unknown_margin" => &mut settings.unknown_margin,
        other => anyhow::bail!("no corrector setting {other:?} (threshold, short_threshold, name_threshold, common_threshold, merge_threshold, word_threshold, context_floor, context_margin, context_veto, context_admit, context_admit_margin, unknown_floor, unknown_margin)"),
    };
    *field = value;
    Ok(())
}

/// Every combination of the `--set` values.
fn grid(sets: &[(String, Vec<f64>)]) -> Vec<Vec<(String, f64)>> {
    let mut out = vec![Vec::new()];
    for (name, values) in sets {
        out = out.into_iter().flat_map(|combo: Vec<(String, f64)>| values.iter().map(move |&v| [combo.clone(), vec![(name.clone(), v)]].concat())).collect();
    }
    out
}

/// The context model's answers kept by prefix and continuation, so that several settings
/// evaluated on the same rows ask it once per span.
struct CachedContext<'a> {
    inner: &'a dyn ContextModel,
    cache: std::sync::Mutex<std::collections::HashMap<(String, String), f64>>,
}

impl ContextModel for CachedContext<'_> {
    fn log_probs(&self, prefix: &str, continuations: &[String]) -> Result<Vec<f64>, Box<dyn std::error::Error + Send + Sync>> {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let mut missing: Vec<String> = continuations.iter().filter(|c| !cache.contains_key(&(prefix.to_owned(), (*c).clone()))).cloned().collect();
        missing.dedup();
        if !missing.is_empty() {
            let scores = self.inner.log_probs(prefix, &missing)?;
            for (c, lp) in missing.into_iter().zip(scores) {
                cache.insert((prefix.to_owned(), c), lp);
            }
        }
        Ok(continuations.iter().map(|c| cache.get(&(prefix.to_owned(), c.clone())).copied().unwrap_or(f64::NEG_INFINITY)).collect())
    }
}

/// The measures of one evaluation, the changed rows and (when asked) every candidate as TSV.
struct Measured {
    report: BiasReport,
    recovered: f64,
    saved: String,
    candidates: String,
}

fn tsv_cell(s: &str) -> String {
    s.replace(['\t', '\n'], " ")
}

fn measure(cases: &[Case], lexicon: &Lexicon, sets: &[(String, f64)], context: Option<&dyn ContextModel>, explain: Option<f64>) -> Result<Measured> {
    let started = std::time::Instant::now();
    let (mut all_b, mut all_a) = (WordErrors::default(), WordErrors::default());
    let (mut miss_b, mut miss_a) = (WordErrors::default(), WordErrors::default());
    let (mut clean_b, mut clean_a) = (WordErrors::default(), WordErrors::default());
    let (mut missed_rows, mut clean_rows, mut rare_total, mut found_b, mut found_a, mut changes) = (0, 0, 0, 0, 0, 0);
    let mut saved = String::from("utt_id\tbefore\tafter\treference\tchanges\n");
    let mut candidates = String::from("utt_id\tmissed\tstart\tend\toriginal\tterm\tscore\tneeded\tguard\tcontext\tkept\tchosen\n");
    for case in cases {
        let hyp = case.hypothesis.as_str();
        let mut settings = Settings::for_terms(case.list.len());
        for (name, value) in sets {
            set_setting(&mut settings, name, *value)?;
        }
        let corrector = Corrector::new(&case.list, lexicon.clone(), settings);
        let (corrected, considered) = match explain {
            Some(min_score) => corrector.explain(hyp, context, min_score),
            None => (corrector.apply_with(hyp, context), Vec::new()),
        };
        for c in considered {
            let guard = serde_json::to_value(c.guard)?;
            candidates.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{:.4}\t{:.4}\t{}\t{}\t{}\t{}\n",
                case.utt_id,
                u8::from(case.missed),
                c.start,
                c.end,
                tsv_cell(&c.original),
                tsv_cell(&c.term),
                c.score,
                c.needed,
                guard.as_str().unwrap_or(""),
                c.context.map_or(String::new(), |d| format!("{d:.3}")),
                u8::from(c.kept),
                u8::from(c.chosen)
            ));
        }
        let after = corrected.text.as_str();
        changes += corrected.changes.len();
        if !corrected.changes.is_empty() {
            let list: Vec<String> = corrected.changes.iter().map(|c| format!("{} -> {} ({:.2})", c.original, c.term, c.score)).collect();
            saved.push_str(&format!("{}\t{hyp}\t{after}\t{}\t{}\n", case.utt_id, case.reference, list.join("; ")));
        }
        let (before_errors, after_errors) = (WordErrors::english(&case.reference, hyp), WordErrors::english(&case.reference, after));
        let [b, a]: [&mut WordErrors; 2] = if case.missed {
            missed_rows += 1;
            rare_total += case.rare.len();
            found_b += present(&case.rare, hyp);
            found_a += present(&case.rare, after);
            [&mut miss_b, &mut miss_a]
        } else {
            clean_rows += 1;
            [&mut clean_b, &mut clean_a]
        };
        *b += before_errors;
        *a += after_errors;
        all_b += before_errors;
        all_a += after_errors;
    }
    let share = |a: usize, b: usize| if b > 0 { a as f64 / b as f64 } else { 0.0 };
    let report = BiasReport {
        rows: cases.len(),
        wer_before: all_b.rate(),
        wer_after: all_a.rate(),
        rare_word_recall_before: share(found_b, rare_total),
        rare_word_recall_after: share(found_a, rare_total),
        rare_words: rare_total,
        missed_rows: Split { rows: missed_rows, wer_before: miss_b.rate(), wer_after: miss_a.rate() },
        clean_rows: Split { rows: clean_rows, wer_before: clean_b.rate(), wer_after: clean_a.rate() },
        changes,
        context_check: context.is_some(),
        seconds: started.elapsed().as_secs_f64(),
    };
    Ok(Measured { report, recovered: share(found_a.saturating_sub(found_b), rare_total.saturating_sub(found_b)), saved, candidates })
}

pub fn bias(args: BiasArgs, lexicon: Lexicon, models: &scrivo_models::store::ModelStore) -> Result<i32> {
    let scorer = args.context.scorer(models)?;
    let cached = scorer.as_ref().map(|s| CachedContext { inner: s, cache: Default::default() });
    let context = cached.as_ref().map(|c| c as &dyn ContextModel);
    let cases = read_cases(&args)?;
    let sets = parse_sets(&args.set)?;
    let combos = grid(&sets);
    if combos.len() > 1 {
        // A table: one line per combination of settings.
        let pct = |x: f64| x * 100.0;
        println!("{:<60} {:>8} {:>10} {:>10} {:>10} {:>8}", "settings", "recall", "recovered", "clean WER", "missed WER", "changes");
        for combo in &combos {
            let m = measure(&cases, &lexicon, combo, context, None)?;
            let name: Vec<String> = combo.iter().map(|(n, v)| format!("{n}={v}")).collect();
            let r = &m.report;
            println!(
                "{:<60} {:>7.1}% {:>9.1}% {:>9.2}% {:>9.2}% {:>8}",
                name.join(" "),
                pct(r.rare_word_recall_after),
                pct(m.recovered),
                pct(r.clean_rows.wer_after),
                pct(r.missed_rows.wer_after),
                r.changes
            );
        }
        return Ok(0);
    }
    let m = measure(&cases, &lexicon, combos.first().map_or(&[][..], Vec::as_slice), context, args.candidates.is_some().then_some(args.candidates_min_score))?;
    if let Some(path) = &args.save_changes {
        scrivo_batch::write_atomically(path, &m.saved)?;
    }
    if let Some(path) = &args.candidates {
        scrivo_batch::write_atomically(path, &m.candidates)?;
    }
    let report = m.report;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let pct = |x: f64| x * 100.0;
        let (rows, changes, rare_total) = (report.rows, report.changes, report.rare_words);
        println!("{} rows, {} changes ({}), {:.1} s", rows, changes, if context.is_some() { "with the context check" } else { "guards only" }, report.seconds);
        println!("WER                      {:.2}% -> {:.2}%", pct(report.wer_before), pct(report.wer_after));
        println!(
            "rare-word recall (missed rows, {} words) {:.1}% -> {:.1}%  ({:.1}% of the missed words recovered)",
            rare_total,
            pct(report.rare_word_recall_before),
            pct(report.rare_word_recall_after),
            pct(m.recovered)
        );
        let (miss, clean) = (&report.missed_rows, &report.clean_rows);
        println!("WER, {} rows with a missed rare word    {:.2}% -> {:.2}%", miss.rows, pct(miss.wer_before), pct(miss.wer_after));
        println!("WER, {} rows with no missed rare word   {:.2}% -> {:.2}%", clean.rows, pct(clean.wer_before), pct(clean.wer_after));
    }
    Ok(0)
}

#[derive(Serialize)]
struct OvercorrectReport {
    turns: usize,
    words: usize,
    terms: usize,
    changes: usize,
    /// Changes that only restored a listed term's casing (the text already said the term).
    casing_only: usize,
    /// Changes that altered words: over-corrections, since the text is right as it stands.
    altering: usize,
    altering_per_10k_words: f64,
    /// Altering changes to a term that is not one of `--entities` (all of them without it).
    not_entity: usize,
    not_entity_per_10k_words: f64,
    examples: Vec<(String, String)>,
}

fn per_10k(n: usize, words: usize) -> f64 {
    if words > 0 {
        n as f64 * 10_000.0 / words as f64
    } else {
        0.0
    }
}

pub fn overcorrect(args: OvercorrectArgs, lexicon: Lexicon, models: &scrivo_models::store::ModelStore) -> Result<i32> {
    let scorer = args.context.scorer(models)?;
    let context = scorer.as_ref().map(|s| s as &dyn scrivo_bias::ContextModel);
    let entries = scrivo_bias::store::import(&args.list)?;
    let corrector = Corrector::for_entries(&entries, lexicon);
    let entities: std::collections::HashSet<String> = match &args.entities {
        Some(p) => scrivo_bias::store::import(p)?.iter().map(|e| scrivo_bias::list::fold(&e.term)).collect(),
        None => Default::default(),
    };
    let table = Table::read(&args.turns)?;
    table.require("text_verbatim")?;
    let (mut turns, mut words, mut changes, mut casing, mut altering, mut not_entity) = (0, 0, 0, 0, 0, 0);
    let mut examples = Vec::new();
    for row in table.rows() {
        let text = row.get("text_verbatim")?;
        turns += 1;
        words += text.split_whitespace().count();
        for c in corrector.apply_with(text, context).changes {
            changes += 1;
            if c.kind == ChangeKind::Exact {
                casing += 1;
            } else {
                altering += 1;
                if !entities.contains(&scrivo_bias::list::fold(&c.term)) {
                    not_entity += 1;
                    if examples.len() < 20 {
                        examples.push((c.original, c.term));
                    }
                }
            }
        }
    }
    let report = OvercorrectReport {
        turns,
        words,
        terms: entries.len(),
        changes,
        casing_only: casing,
        altering,
        altering_per_10k_words: per_10k(altering, words),
        not_entity,
        not_entity_per_10k_words: per_10k(not_entity, words),
        examples,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{} turns, {} words, {} terms", turns, words, report.terms);
        println!("changes {} (casing of a listed term {}, altering {}): {:.2} altering changes per 10,000 words", changes, casing, altering, report.altering_per_10k_words);
        println!("altering changes to a term that is not an entity of the text: {} ({:.2} per 10,000 words)", not_entity, report.not_entity_per_10k_words);
        for (from, to) in &report.examples {
            println!("  {from:?} -> {to:?}");
        }
    }
    Ok(0)
}
