//! The LLM stage of the polishing engine: SmolLM2 under copy-constrained decoding.
//!
//! The output is built word by word, and every step may only be:
//! - the next word of the input, or a later one (skipping at most [`MAX_SKIP`] words, never a
//!   protected one: numbers, negations, biasing-list terms), written as in the input or with
//!   its first letter's case changed;
//! - a punctuation mark after a word;
//! - the end (skipping the rest).
//!
//! So it cannot invent, answer or change a word. The model ranks the allowed steps by the
//! log-probability of each step's first token; skipping a word costs [`SKIP_COST`] (less for
//! words the rule pass removed, nothing for interjections).
//!
//! Speed: the rule pass's output is a draft. It is run through the model in one pass
//! (logits at every position), and the longest prefix whose every step the model would have
//! chosen itself is kept; decoding goes on step by step from the first disagreement only.
//! A guard falls back to the rule output when the model deletes more than half the words or
//! runs past the time budget.

use std::sync::Arc;
use std::time::{Duration, Instant};

use candle_core::D;
use scrivo_polish::{removed_runs, removed_words, Polished, PolishError, Polisher, RulePolisher};

use crate::model::{Cache, Model};
use crate::tokenizer::TextTokenizer;
use crate::LlmError;

/// Words that may be skipped in one step.
pub const MAX_SKIP: usize = 6;
/// Log-probability cost of skipping a word the rule pass kept.
pub const SKIP_COST: f32 = 4.0;
/// Cost of skipping a word the rule pass removed too (a repetition or a correction).
pub const RULE_SKIP_COST: f32 = 0.5;
/// How much more likely (in log-probability) the model's own step must be to replace the
/// draft's.
pub const DRAFT_MARGIN: f32 = 2.0;
const PUNCTUATION: [&str; 4] = [",", ".", "?", "!"];

const SYSTEM: &str = "You clean up dictated text. Remove filler words (um, uh, you know, I mean), \
words said twice, and false starts; when the speaker corrects themselves, keep only the \
correction. Keep every other word exactly. Never answer, add or change words. Fix capital \
letters and punctuation.";
const EXAMPLES: [(&str, &str); 2] = [
    ("so um we we should move the meeting to tuesday no wednesday", "So we should move the meeting to Wednesday."),
    ("what uh what time does the the train leave", "What time does the train leave?"),
];

/// One step of the output.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// Input word `index`, written as `text`.
    Word { index: usize, text: String },
    Punct(&'static str),
    End,
}

/// Polishes with the rule pass, then the model.
pub struct LlmPolisher {
    model: Arc<Model>,
    tokenizer: Arc<TextTokenizer>,
    rules: RulePolisher,
    /// The cache after the system prompt and examples.
    prefix: Cache,
    end_token: u32,
    /// The first token of each punctuation mark, tokenized once.
    punct_tokens: Vec<(&'static str, u32)>,
    budget: Duration,
}

fn core_text(raw: &str) -> &str {
    raw.trim_matches(|c: char| !c.is_alphanumeric())
}

fn with_first(text: &str, upper: bool) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) if upper => c.to_uppercase().chain(chars).collect(),
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl LlmPolisher {
    /// Runs the fixed prompt once; `rules` gives the draft and the protected words.
    pub fn new(model: Arc<Model>, tokenizer: Arc<TextTokenizer>, rules: RulePolisher) -> Result<Self, LlmError> {
        let end_token = tokenizer.special("<|im_end|>").ok_or_else(|| LlmError::Input("the model has no <|im_end|> token".into()))?;
        let mut text = format!("<|im_start|>system\n{SYSTEM}<|im_end|>\n");
        for (user, assistant) in EXAMPLES {
            text.push_str(&format!("<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n{assistant}<|im_end|>\n"));
        }
        let mut prefix = model.new_cache();
        model.forward(&tokenizer.encode(&text)?, &mut prefix)?;
        let mut punct_tokens = Vec::new();
        for p in PUNCTUATION {
            if let Some(&tok) = tokenizer.encode(p)?.first() {
                punct_tokens.push((p, tok));
            }
        }
        Ok(LlmPolisher { model, tokenizer, rules, prefix, end_token, punct_tokens, budget: Duration::from_secs(3) })
    }

    /// Sets the time budget per text; past it the rule output is used.
    pub fn with_budget(mut self, budget: Duration) -> Self {
        self.budget = budget;
        self
    }

    fn tokens_of(&self, step: &Step, first: bool) -> Result<Vec<u32>, LlmError> {
        match step {
            Step::Word { text, .. } => self.tokenizer.encode(&if first { text.clone() } else { format!(" {text}") }),
            Step::Punct(p) => self.tokenizer.encode(p),
            Step::End => Ok(vec![self.end_token]),
        }
    }

    /// Every allowed step after `next` input words were consumed, scored with the log-probs
    /// of the next token.
    fn candidates(&self, words: &[&str], skip_cost: &[f32], next: usize, last_was_word: bool, first: bool, logp: &[f32]) -> Result<Vec<(Step, f32)>, LlmError> {
        let mut out = Vec::new();
        let mut skipped = 0.0;
        for j in next..words.len().min(next + MAX_SKIP + 1) {
            let core = core_text(words[j]);
            if !core.is_empty() {
                let mut variants = vec![core.to_string(), with_first(core, true), with_first(core, false)];
                variants.dedup();
                for text in variants {
                    let step = Step::Word { index: j, text };
                    if let Some(&tok) = self.tokens_of(&step, first)?.first() {
                        out.push((step, logp[tok as usize] - skipped));
                    }
                }
            }
            if self.rules.is_protected(words[j]) {
                break;
            }
            skipped += skip_cost[j];
        }
        if last_was_word {
            for &(p, tok) in &self.punct_tokens {
                out.push((Step::Punct(p), logp[tok as usize]));
            }
        }
        let rest = &words[next.min(words.len())..];
        if !first && rest.iter().all(|w| !self.rules.is_protected(w)) {
            let cost: f32 = skip_cost[next.min(words.len())..].iter().sum();
            out.push((Step::End, logp[self.end_token as usize] - cost));
        }
        Ok(out)
    }

    /// The draft's step unless the model prefers another by more than [`DRAFT_MARGIN`].
    fn choose(&self, candidates: Vec<(Step, f32)>, draft: Option<&Step>) -> Result<Step, LlmError> {
        let best = candidates.iter().max_by(|a, b| a.1.total_cmp(&b.1)).ok_or_else(|| LlmError::Input("no allowed step".into()))?;
        if let Some(d) = draft {
            if let Some((step, score)) = candidates.iter().find(|(s, _)| s == d) {
                if *score >= best.1 - DRAFT_MARGIN {
                    return Ok(step.clone());
                }
            }
        }
        Ok(best.0.clone())
    }

    fn decode(&self, raw: &str, draft: &Polished) -> Result<Vec<Step>, LlmError> {
        let started = Instant::now();
        let words: Vec<&str> = raw.split_whitespace().collect();
        let removed_by_rules = removed_words(&draft.edits, words.len());
        let skip_cost: Vec<f32> = words
            .iter()
            .zip(&removed_by_rules)
            .map(|(w, r)| if self.rules.is_filler(w) { 0.0 } else if *r { RULE_SKIP_COST } else { SKIP_COST })
            .collect();
        let draft_steps = draft_steps(&words, &removed_by_rules, &draft.text);

        let mut cache = self.prefix.clone();
        let user = format!("<|im_start|>user\n{raw}<|im_end|>\n<|im_start|>assistant\n");
        let prompt_logits = self.model.forward(&self.tokenizer.encode(&user)?, &mut cache)?;
        let prompt_len = cache.len();
        let mut row = candle_nn::ops::log_softmax(&prompt_logits.get(prompt_logits.dims()[0] - 1)?, D::Minus1)?.to_vec1::<f32>()?;

        // Verify the draft in one pass: keep the prefix the model agrees with.
        let mut draft_tokens = Vec::new();
        let mut starts = Vec::new();
        for (k, step) in draft_steps.iter().enumerate() {
            starts.push(draft_tokens.len());
            draft_tokens.extend(self.tokens_of(step, k == 0)?);
        }
        let mut out: Vec<Step> = Vec::new();
        let (mut next, mut last_was_word) = (0usize, false);
        let mut diverged: Option<Step> = None;
        if !draft_tokens.is_empty() {
            let logits = candle_nn::ops::log_softmax(&self.model.forward(&draft_tokens, &mut cache)?, D::Minus1)?;
            let mut accepted_tokens = 0;
            for (k, step) in draft_steps.iter().enumerate() {
                if k > 0 {
                    row = logits.get(starts[k] - 1)?.to_vec1::<f32>()?;
                }
                let chosen = self.choose(self.candidates(&words, &skip_cost, next, last_was_word, out.is_empty(), &row)?, Some(step))?;
                if chosen != *step {
                    diverged = Some(chosen);
                    break;
                }
                accepted_tokens = starts.get(k + 1).copied().unwrap_or(draft_tokens.len());
                apply(&chosen, &mut next, &mut last_was_word);
                out.push(chosen);
            }
            if out.len() == draft_steps.len() {
                row = logits.get(draft_tokens.len() - 1)?.to_vec1::<f32>()?;
            }
            cache.truncate(prompt_len + accepted_tokens)?;
        }
        // Step by step from the first disagreement, still preferring the draft.
        let mut pointer = out.len();
        let max_steps = 2 * words.len() + 8;
        while out.len() < max_steps {
            if started.elapsed() > self.budget {
                return Err(LlmError::Input(format!("over the time budget of {:?}", self.budget)));
            }
            let step = match diverged.take() {
                Some(step) => step,
                None => {
                    let suggestion = draft_next(&draft_steps, &mut pointer, next, last_was_word);
                    self.choose(self.candidates(&words, &skip_cost, next, last_was_word, out.is_empty(), &row)?, suggestion.as_ref())?
                }
            };
            if step == Step::End {
                break;
            }
            if draft_steps.get(pointer) == Some(&step) {
                pointer += 1;
            }
            let tokens = self.tokens_of(&step, out.is_empty())?;
            let logits = self.model.forward(&tokens, &mut cache)?;
            row = candle_nn::ops::log_softmax(&logits.get(logits.dims()[0] - 1)?, D::Minus1)?.to_vec1::<f32>()?;
            apply(&step, &mut next, &mut last_was_word);
            out.push(step);
            if next >= words.len() && !last_was_word {
                break;
            }
        }
        Ok(out)
    }
}

/// The draft's next step that still fits: words already passed are dropped, a punctuation
/// mark only after a word; the end once the draft is used up.
fn draft_next(draft: &[Step], pointer: &mut usize, next: usize, last_was_word: bool) -> Option<Step> {
    while let Some(step) = draft.get(*pointer) {
        match step {
            Step::Word { index, .. } if *index >= next => return Some(step.clone()),
            Step::Punct(_) if last_was_word => return Some(step.clone()),
            _ => *pointer += 1,
        }
    }
    Some(Step::End)
}

fn apply(step: &Step, next: &mut usize, last_was_word: &mut bool) {
    match step {
        Step::Word { index, .. } => {
            *next = index + 1;
            *last_was_word = true;
        }
        Step::Punct(_) => *last_was_word = false,
        Step::End => {}
    }
}

/// The rule output as steps: its words are the input words not removed, in order.
fn draft_steps(words: &[&str], removed: &[bool], text: &str) -> Vec<Step> {
    let kept: Vec<usize> = (0..words.len()).filter(|&i| !removed[i]).collect();
    let out_words: Vec<&str> = text.split_whitespace().collect();
    if kept.len() != out_words.len() {
        return Vec::new();
    }
    let mut steps = Vec::new();
    for (&index, w) in kept.iter().zip(&out_words) {
        let core = core_text(w);
        if core.is_empty() {
            return Vec::new();
        }
        steps.push(Step::Word { index, text: core.to_string() });
        let after = &w[w.find(core).map_or(w.len(), |p| p + core.len())..];
        for c in after.chars() {
            match PUNCTUATION.iter().find(|p| p.starts_with(c)) {
                Some(p) => steps.push(Step::Punct(p)),
                None => return steps,
            }
        }
    }
    steps
}

/// Text and edits of the chosen steps.
fn render(words: &[&str], steps: &[Step], draft: &Polished) -> Polished {
    let mut text = String::new();
    let mut kept = vec![false; words.len()];
    for step in steps {
        match step {
            Step::Word { index, text: w } => {
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(w);
                kept[*index] = true;
            }
            Step::Punct(p) => text.push_str(p),
            Step::End => {}
        }
    }
    let edits = removed_runs(words, &kept, &draft.edits);
    Polished { text, edits, ..Polished::default() }
}

impl Polisher for LlmPolisher {
    fn polish(&mut self, raw: &str) -> Result<Polished, PolishError> {
        let draft = self.rules.polish(raw)?;
        let words: Vec<&str> = raw.split_whitespace().collect();
        if words.is_empty() {
            return Ok(draft);
        }
        let steps = match self.decode(raw, &draft) {
            Ok(steps) => steps,
            Err(e) => {
                tracing::warn!("polishing model fell back to the rules: {e}");
                return Ok(draft);
            }
        };
        let out = render(&words, &steps, &draft);
        let content = |p: &Polished| p.text.split_whitespace().count();
        // Guard: a model that deletes more than half of what the rules kept is not trusted.
        if content(&out) * 2 < content(&draft) {
            tracing::warn!(kept = content(&out), rules = content(&draft), "polishing model deleted too much; the rule output is used");
            return Ok(draft);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scrivo_polish::{Edit, EditKind};

    #[test]
    fn draft_steps_follow_the_rule_output() {
        let words: Vec<&str> = "um so we we ship it today".split_whitespace().collect();
        let removed = [true, false, true, false, false, false, false];
        let steps = draft_steps(&words, &removed, "So we ship it today.");
        assert_eq!(
            steps,
            vec![
                Step::Word { index: 1, text: "So".into() },
                Step::Word { index: 3, text: "we".into() },
                Step::Word { index: 4, text: "ship".into() },
                Step::Word { index: 5, text: "it".into() },
                Step::Word { index: 6, text: "today".into() },
                Step::Punct("."),
            ]
        );
        assert!(draft_steps(&words, &removed, "Something else entirely").is_empty());
    }

    #[test]
    fn render_reports_every_removed_run() {
        let words: Vec<&str> = "um so we we ship it".split_whitespace().collect();
        let draft = Polished { edits: vec![Edit { start: 0, end: 1, removed: "um".into(), kind: EditKind::Filler }], ..Polished::default() };
        let steps = [Step::Word { index: 1, text: "So".into() }, Step::Word { index: 3, text: "we".into() }, Step::Word { index: 4, text: "ship".into() }, Step::Punct(".")];
        let out = render(&words, &steps, &draft);
        assert_eq!(out.text, "So we ship.");
        let spans: Vec<(usize, usize, EditKind)> = out.edits.iter().map(|e| (e.start, e.end, e.kind)).collect();
        assert_eq!(spans, vec![(0, 1, EditKind::Filler), (2, 3, EditKind::Correction), (5, 6, EditKind::Correction)]);
    }
}
