//! The speech model's initial prompt: the enabled terms, most relevant first, within a token
//! budget. Whisper reads the prompt as preceding text, so spellings in it are more likely.

use crate::list::fold;

/// Whisper keeps at most 223 prompt tokens. Measured with the espeak-ng audio check
/// (`make eval-bias`, first-token bonus 0): 200 tokens recalled more terms than 120 (50% vs
/// 47.5%) and lowered WER.
pub const DEFAULT_TOKEN_BUDGET: usize = 200;

/// A rough token count for English text when no tokenizer is at hand: about one token per
/// three characters, at least one per word.
pub fn estimate_tokens(text: &str) -> usize {
    let words = text.split_whitespace().count();
    (text.chars().count().div_ceil(3)).max(words)
}

/// Orders `terms` by relevance: those already present in `context` (earlier text of the same
/// recording or document) first, then the rest in list order.
pub fn by_relevance<'a>(terms: &[&'a str], context: Option<&str>) -> Vec<&'a str> {
    let Some(context) = context.map(fold).filter(|c| !c.is_empty()) else { return terms.to_vec() };
    let padded = format!(" {context} ");
    let (mut seen, mut rest): (Vec<&str>, Vec<&str>) = terms.iter().partition(|t| padded.contains(&format!(" {} ", fold(t))));
    seen.append(&mut rest);
    seen
}

/// `terms` with those made only of words the speech model already writes (`is_common`, for
/// example [`crate::Lexicon::is_common`] over its vocabulary's whole words: "Energy",
/// "Bank of America") moved after the rest, each group in its order. The prompt holds about
/// 50 terms; a word the model spells by itself gains nothing from a place in it, and the
/// corrector gives it the list's casing anyway.
pub fn rare_spellings_first<'a>(terms: &[&'a str], is_common: impl Fn(&str) -> bool) -> Vec<&'a str> {
    let (common, mut rare): (Vec<&str>, Vec<&str>) = terms.iter().partition(|t| {
        let words = crate::text::tokens(t);
        !words.is_empty() && words.iter().all(|w| is_common(&w.norm))
    });
    rare.extend(common);
    rare
}

/// "Glossary: A, B, C." with as many of `terms` (in the given order) as fit in `budget` tokens
/// counted by `count_tokens`; None when no term fits.
pub fn initial_prompt(terms: &[&str], budget: usize, count_tokens: impl Fn(&str) -> usize) -> Option<String> {
    let mut prompt = String::from("Glossary:");
    let mut any = false;
    let mut seen = std::collections::HashSet::new();
    for term in terms {
        let term = term.trim();
        if term.is_empty() || !seen.insert(fold(term)) {
            continue;
        }
        let candidate = format!("{prompt}{}{term}", if any { ", " } else { " " });
        if count_tokens(&format!("{candidate}.")) > budget {
            break;
        }
        prompt = candidate;
        any = true;
    }
    any.then(|| format!("{prompt}."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_lists_terms_within_the_budget() {
        let terms = ["Kubernetes", "Anja Schmidt", "PostgreSQL", "kubernetes"];
        assert_eq!(initial_prompt(&terms, 100, estimate_tokens).as_deref(), Some("Glossary: Kubernetes, Anja Schmidt, PostgreSQL."));
        let words = |s: &str| s.split_whitespace().count();
        assert_eq!(initial_prompt(&terms, 3, words).as_deref(), Some("Glossary: Kubernetes."));
        assert_eq!(initial_prompt(&terms, 1, words), None);
        assert_eq!(initial_prompt(&[], 100, words), None);
    }

    #[test]
    fn terms_the_model_spells_go_last() {
        let common = |w: &str| ["energy", "bank", "of", "america", "sales"].contains(&w);
        let terms = ["Energy", "Zscaler", "Bank of America", "FirstEnergy", "Sales"];
        assert_eq!(rare_spellings_first(&terms, common), vec!["Zscaler", "FirstEnergy", "Energy", "Bank of America", "Sales"]);
    }

    #[test]
    fn relevant_terms_come_first() {
        let terms = ["Tauri", "Kubernetes", "Anja Schmidt"];
        assert_eq!(by_relevance(&terms, Some("Ask ANJA SCHMIDT about it")), vec!["Anja Schmidt", "Tauri", "Kubernetes"]);
        assert_eq!(by_relevance(&terms, None), terms.to_vec());
    }
}
