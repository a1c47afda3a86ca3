//! Whisper vocabulary files: tokens in `vocabulary.txt` are GPT-2 byte-to-unicode encoded;
//! the ggml file wants the raw bytes.

use std::collections::HashMap;

/// The inverse of GPT-2's `bytes_to_unicode`: printable Latin-1 bytes stand for themselves,
/// the other 68 bytes are mapped to U+0100 onwards in byte order.
fn unicode_to_byte() -> HashMap<char, u8> {
    let printable = |b: u8| (b'!'..=b'~').contains(&b) || (0xA1..=0xAC).contains(&b) || b >= 0xAE;
    let mut map = HashMap::with_capacity(256);
    let mut next = 256u32;
    for b in 0..=255u8 {
        let c = if printable(b) {
            char::from(b)
        } else {
            let c = char::from_u32(next).unwrap_or(char::REPLACEMENT_CHARACTER);
            next += 1;
            c
        };
        map.insert(c, b);
    }
    map
}

/// Decodes one token; `None` when it holds a character outside the byte alphabet.
pub fn decode_token(token: &str, table: &HashMap<char, u8>) -> Option<Vec<u8>> {
    token.chars().map(|c| table.get(&c).copied()).collect()
}

/// The first `count` tokens of a `vocabulary.txt` (split on `\n` only) as raw bytes.
/// Returns the index of the first undecodable line on error.
pub fn decode_vocabulary(text: &str, count: usize) -> Result<Vec<Vec<u8>>, usize> {
    let table = unicode_to_byte();
    let lines: Vec<&str> = text.split('\n').collect();
    if lines.len() < count {
        return Err(lines.len());
    }
    lines[..count]
        .iter()
        .enumerate()
        .map(|(i, t)| decode_token(t, &table).ok_or(i))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn space_and_newline_markers_decode_to_raw_bytes() {
        let table = unicode_to_byte();
        assert_eq!(decode_token("Ġthe", &table), Some(b" the".to_vec()));
        assert_eq!(decode_token("Ċ", &table), Some(b"\n".to_vec()));
        assert_eq!(decode_token("Ã©", &table), Some("é".as_bytes().to_vec()));
        assert_eq!(table.len(), 256);
    }
}
