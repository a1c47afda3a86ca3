//! The English normaliser every Scrivo WER figure uses.
//!
//! Both sides of a comparison go through [`normalise_english`]:
//! 1. lower case;
//! 2. numbers to digits: spoken numbers become digits with `text2num` ("forty-two" -> "42",
//!    "three point five" -> "3.5", "first" -> "1st"); a spoken year pair such as
//!    "fourteen fifty-five" becomes "1455"; thousands separators go ("1,000" -> "1000");
//! 3. punctuation to spaces, except a decimal point between digits; apostrophes are dropped
//!    ("don't" -> "dont") so contractions compare equal whatever the quote character;
//! 4. runs of white space to one space.
//!
//! It does not expand abbreviations ("Mr." stays "mr") or unify British and American spelling.

use text2num::{replace_numbers_in_text, Language};

/// Normalises `text` for scoring (see the module documentation).
pub fn normalise_english(text: &str) -> String {
    let lower = text.to_lowercase().replace(['\u{2019}', '\u{2018}', '`'], "'");
    let no_separators = drop_thousands_separators(&lower);
    let digits = replace_numbers_in_text(&no_separators, &Language::english(), 0.0);
    let words = strip_punctuation(&digits);
    join_year_pairs(&words)
}

/// Normalises and splits into words.
pub fn words_english(text: &str) -> Vec<String> {
    normalise_english(text).split(' ').filter(|w| !w.is_empty()).map(str::to_owned).collect()
}

fn drop_thousands_separators(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let between_digits = i > 0 && chars.get(i + 1).is_some_and(char::is_ascii_digit) && chars[i - 1].is_ascii_digit();
        let group_of_three = chars.get(i + 1..i + 4).is_some_and(|g| g.iter().all(char::is_ascii_digit))
            && !chars.get(i + 4).is_some_and(char::is_ascii_digit);
        if c == ',' && between_digits && group_of_three {
            continue;
        }
        out.push(c);
    }
    out
}

fn strip_punctuation(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let decimal_point = c == '.' && i > 0 && chars[i - 1].is_ascii_digit() && chars.get(i + 1).is_some_and(char::is_ascii_digit);
        if c == '\'' {
            continue;
        }
        if c.is_alphanumeric() || decimal_point {
            out.push(c);
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    out.trim().to_owned()
}

/// "14 55" (a year said as two pairs, which `text2num` leaves apart) -> "1455".
fn join_year_pairs(text: &str) -> String {
    let words: Vec<&str> = text.split(' ').filter(|w| !w.is_empty()).collect();
    let pair = |w: &str| w.len() == 2 && w.bytes().all(|b| b.is_ascii_digit()) && !w.starts_with('0');
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let century = words[i].parse::<u32>().ok().filter(|c| (11..=20).contains(c) && pair(words[i]));
        match (century, words.get(i + 1)) {
            (Some(_), Some(next)) if pair(next) => {
                out.push(format!("{}{}", words[i], next));
                i += 2;
            }
            _ => {
                out.push(words[i].to_owned());
                i += 1;
            }
        }
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::normalise_english as n;

    #[test]
    fn case_and_punctuation() {
        assert_eq!(n("And so, my fellow Americans: ask not!"), "and so my fellow americans ask not");
        assert_eq!(n("Don't  stop—it’s fine."), "dont stop its fine");
    }

    #[test]
    fn numbers_compare_in_one_form() {
        assert_eq!(n("go forward ten meters"), n("Go forward 10 meters."));
        assert_eq!(n("the forty-two line Bible"), n("the 42-line Bible"));
        assert_eq!(n("of about fourteen fifty-five,"), n("of about 1455."));
        assert_eq!(n("in the year fourteen sixty-two"), "in the year 1462");
        assert_eq!(n("one thousand two hundred"), n("1,200"));
        assert_eq!(n("three point five percent"), "3.5 percent");
    }

    #[test]
    fn ordinary_pairs_of_numbers_are_not_years() {
        assert_eq!(n("page 5 of 10"), "page 5 of 10");
        assert_eq!(n("rooms 30 40"), "rooms 30 40");
    }
}
