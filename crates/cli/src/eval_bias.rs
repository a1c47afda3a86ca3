//! `scrivo eval bias` and `scrivo eval overcorrect`: what biasing lists fix and what they break.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use scrivo_bias::{ChangeKind, Corrector, Entry, Lexicon};
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
    #[command(flatten)]
    pub context: crate::bias_cmd::ContextArgs,
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

pub fn bias(args: BiasArgs, lexicon: Lexicon, models: &scrivo_models::store::ModelStore) -> Result<i32> {
    let scorer = args.context.scorer(models)?;
    let context = scorer.as_ref().map(|s| s as &dyn scrivo_bias::ContextModel);
    let started = std::time::Instant::now();
    let table = Table::read(&args.cases)?;
    let hyp_col = if table.has("hypothesis") { "hypothesis" } else { "asr_hypothesis_baseline_rnnt" };
    for c in [hyp_col, "reference", "rare_words_in_ref", "biasing_list_100", "rare_word_missed_in_hyp"] {
        table.require(c)?;
    }
    let (mut all_b, mut all_a) = (WordErrors::default(), WordErrors::default());
    let (mut miss_b, mut miss_a) = (WordErrors::default(), WordErrors::default());
    let (mut clean_b, mut clean_a) = (WordErrors::default(), WordErrors::default());
    let (mut rows, mut missed_rows, mut clean_rows, mut rare_total, mut found_b, mut found_a, mut changes) = (0, 0, 0, 0, 0, 0, 0);
    let mut saved = String::from("utt_id\tbefore\tafter\treference\tchanges\n");
    for (i, row) in table.rows().enumerate().take(args.limit.unwrap_or(usize::MAX)) {
        let line = i + 2;
        let (hyp, reference) = (row.get(hyp_col)?, row.get("reference")?);
        let rare = json_words(row.get("rare_words_in_ref")?, "rare_words_in_ref", line)?;
        let list = json_words(row.get("biasing_list_100")?, "biasing_list_100", line)?;
        let entries: Vec<Entry> = list.into_iter().map(Entry::new).collect();
        let corrector = Corrector::for_entries(&entries, lexicon.clone());
        let corrected = corrector.apply_with(hyp, context);
        let after = corrected.text.as_str();
        changes += corrected.changes.len();
        if !corrected.changes.is_empty() {
            let list: Vec<String> = corrected.changes.iter().map(|c| format!("{} -> {} ({:.2})", c.original, c.term, c.score)).collect();
            saved.push_str(&format!("{}\t{hyp}\t{after}\t{reference}\t{}\n", row.optional("utt_id").unwrap_or(""), list.join("; ")));
        }
        let (before_errors, after_errors) = (WordErrors::english(reference, hyp), WordErrors::english(reference, after));
        let [b, a]: [&mut WordErrors; 2] = if row.get("rare_word_missed_in_hyp")?.trim() == "1" {
            missed_rows += 1;
            rare_total += rare.len();
            found_b += present(&rare, hyp);
            found_a += present(&rare, after);
            [&mut miss_b, &mut miss_a]
        } else {
            clean_rows += 1;
            [&mut clean_b, &mut clean_a]
        };
        *b += before_errors;
        *a += after_errors;
        all_b += before_errors;
        all_a += after_errors;
        rows += 1;
    }
    if let Some(path) = &args.save_changes {
        scrivo_batch::write_atomically(path, &saved)?;
    }
    let share = |a: usize, b: usize| if b > 0 { a as f64 / b as f64 } else { 0.0 };
    let report = BiasReport {
        rows,
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
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let pct = |x: f64| x * 100.0;
        println!("{} rows, {} changes ({}), {:.1} s", rows, changes, if context.is_some() { "with the context check" } else { "guards only" }, report.seconds);
        println!("WER                      {:.2}% -> {:.2}%", pct(report.wer_before), pct(report.wer_after));
        println!(
            "rare-word recall (missed rows, {} words) {:.1}% -> {:.1}%  ({:.1}% of the missed words recovered)",
            rare_total,
            pct(report.rare_word_recall_before),
            pct(report.rare_word_recall_after),
            pct(share(found_a.saturating_sub(found_b), rare_total.saturating_sub(found_b)))
        );
        println!("WER, {} rows with a missed rare word    {:.2}% -> {:.2}%", missed_rows, pct(miss_b.rate()), pct(miss_a.rate()));
        println!("WER, {} rows with no missed rare word   {:.2}% -> {:.2}%", clean_rows, pct(clean_b.rate()), pct(clean_a.rate()));
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
