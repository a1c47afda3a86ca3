//! Words of a text with their byte spans, in the one form that matching compares.
//!
//! A word is a run of letters and digits. Inside a word, an apostrophe or a dot followed by a
//! letter or digit joins ("O'Reilly", "whisper.cpp"; a dot before a capital only after a
//! capital, "ASP.NET", so "centre.We" is two words); trailing `+` and `#` stay with the word
//! ("C++", "C#"). A possessive "'s" is a word of its own, so "Anja Schmidt's" still contains
//! "Anja Schmidt". The compared form (`norm`) is lower case with typographic apostrophes made
//! straight.

/// One word of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Byte range in the text.
    pub start: usize,
    pub end: usize,
    pub norm: String,
}

fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '\u{2019}'
}

/// The words of `text`.
pub fn tokens(text: &str) -> Vec<Token> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let end_of = |i: usize| chars.get(i).map_or(text.len(), |(b, _)| *b);
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].1.is_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        let mut j = i + 1;
        loop {
            match chars.get(j) {
                Some((_, c)) if c.is_alphanumeric() => j += 1,
                // A dot joins "whisper.cpp" and "ASP.NET", not "centre.We" (a missing space).
                Some((_, c))
                    if (is_apostrophe(*c) || *c == '.')
                        && chars.get(j + 1).is_some_and(|(_, n)| n.is_alphanumeric())
                        && (*c != '.' || !chars[j + 1].1.is_uppercase() || chars[j - 1].1.is_uppercase()) =>
                {
                    // A possessive 's ends the word: it becomes a word of its own.
                    let possessive = is_apostrophe(*c)
                        && chars.get(j + 1).is_some_and(|(_, n)| *n == 's' || *n == 'S')
                        && chars.get(j + 2).is_none_or(|(_, n)| !n.is_alphanumeric());
                    if possessive {
                        break;
                    }
                    j += 2;
                }
                _ => break,
            }
        }
        // "C++" and "C#", but not "in+b": signs followed by a letter or digit are not the word's.
        let mut k = j;
        while chars.get(k).is_some_and(|(_, c)| *c == '+' || *c == '#') {
            k += 1;
        }
        if !chars.get(k).is_some_and(|(_, c)| c.is_alphanumeric()) {
            j = k;
        }
        let (s, e) = (chars[start].0, end_of(j));
        out.push(Token { start: s, end: e, norm: normalise(&text[s..e]) });
        // The possessive "'s" as its own word.
        if chars.get(j).is_some_and(|(_, c)| is_apostrophe(*c))
            && chars.get(j + 1).is_some_and(|(_, n)| *n == 's' || *n == 'S')
            && chars.get(j + 2).is_none_or(|(_, n)| !n.is_alphanumeric())
        {
            out.push(Token { start: chars[j].0, end: end_of(j + 2), norm: "'s".into() });
            j += 2;
        }
        i = j;
    }
    out
}

/// The word a contraction is made from ("we've" -> "we", "don't" -> "do"); None for any other
/// word (a possessive "'s" is a word of its own, see [`tokens`]).
pub fn contraction_base(norm: &str) -> Option<&str> {
    if let Some(base) = norm.strip_suffix("n't") {
        return Some(base);
    }
    let (base, end) = norm.rsplit_once('\'')?;
    ["ve", "ll", "re", "d", "m"].contains(&end).then_some(base)
}

/// Lower case, straight apostrophes.
pub fn normalise(word: &str) -> String {
    word.chars().flat_map(char::to_lowercase).map(|c| if c == '\u{2019}' { '\'' } else { c }).collect()
}

/// True when only spaces or hyphens separate the two byte offsets: words on either side belong
/// to one phrase (a comma or full stop ends a phrase).
pub fn joined(text: &str, from: usize, to: usize) -> bool {
    text.get(from..to).is_some_and(|gap| gap.chars().all(|c| c.is_whitespace() || c == '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: &[&str]) {
        let got: Vec<String> = tokens(text).into_iter().map(|t| t.norm).collect();
        assert_eq!(got, expected);
        for t in tokens(text) {
            assert_eq!(normalise(&text[t.start..t.end]), t.norm);
        }
    }

    #[test]
    fn words_apostrophes_dots_and_symbols() {
        check("Ask O'Reilly about whisper.cpp, C++ and C#.", &["ask", "o'reilly", "about", "whisper.cpp", "c++", "and", "c#"]);
        check("It’s done. Next", &["it", "'s", "done", "next"]);
        check("don't", &["don't"]);
        check("Anja Schmidt's team", &["anja", "schmidt", "'s", "team"]);
        check("Schmidt’S", &["schmidt", "'s"]);
        check("  --  ", &[]);
        check("Center.We use ASP.NET", &["center", "we", "use", "asp.net"]);
        check("Müller-Lüdenscheidt 42", &["müller", "lüdenscheidt", "42"]);
        // Found by fuzzing: a sign followed by a letter is not part of the word before it.
        check("in+b C++x", &["in", "b", "c", "x"]);
    }

    #[test]
    fn joined_stops_at_punctuation() {
        assert!(joined("a b", 1, 2));
        assert!(joined("a - b", 1, 4));
        assert!(!joined("a, b", 1, 3));
    }
}
