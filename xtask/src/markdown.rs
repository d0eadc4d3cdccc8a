//! Markdown, read as mdbook reads it: through pulldown-cmark, mdbook's own
//! parser, with mdbook's extensions, in one walk over its events. What the
//! book's checks need of a chapter or of a catalogue's message is an
//! [`Outline`]: where its code blocks and block directives start, its
//! links' addresses, its code, its prose.
//!
//! So fences are fences whatever their character (backticks or `~~~`) and
//! wherever they sit (in a list item), a reference link is a link, and
//! `](` or a backtick inside code is code.
//!
//! Wiring: a leaf, used by [`crate::book`] (the chapters' checks) and
//! [`crate::translations`] (what a translation must keep).

use pulldown_cmark::{BrokenLink, CodeBlockKind, CowStr, Event, LinkType, Options, Parser, Tag};

/// What the checks need of a piece of Markdown.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Outline {
    /// The line (from 1) where each code block starts: its opening fence,
    /// or an indented block's first line.
    pub code_blocks: Vec<usize>,
    /// The line of each paragraph that is a block directive (`{{#nslab
    /// hints …}}`, `{{#nslab schedule}}`).
    pub block_directives: Vec<usize>,
    /// Every link's and image's address, as written (reference links
    /// resolved; one with no definition, such as a message's, as
    /// `[label]`).
    pub links: Vec<Link>,
    /// The code: each code span's text, and each code block's.
    pub code: Vec<String>,
    /// Each code span's text alone (what a chapter names inline: a call, a
    /// command to try).
    pub code_spans: Vec<String>,
    /// The text that is neither code nor an address, one piece a line.
    pub prose: String,
    /// A backtick that opens no code span.
    pub stray_backtick: bool,
}

/// A link's or image's address.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub address: String,
    /// `<https://…>`: its address is its text.
    pub autolink: bool,
}

/// mdbook's extensions of CommonMark (mdbook-markdown's options, smart
/// punctuation aside: book.toml turns it off).
fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
}

/// The outline of `text`, in one walk over its events.
pub fn outline(text: &str) -> Outline {
    // A reference whose definition is not in the text (a message of a
    // catalogue is a paragraph, its definitions elsewhere): still a link.
    let unresolved = |link: BrokenLink<'_>| match link.link_type {
        LinkType::Reference | LinkType::Collapsed => Some((
            CowStr::from(format!("[{}]", link.reference)),
            CowStr::from(""),
        )),
        _ => None,
    };
    let parser = Parser::new_with_broken_link_callback(text, options(), Some(unresolved));
    let line_of = |offset: usize| text[..offset].matches('\n').count() + 1;
    let mut outline = Outline::default();
    let mut in_code_block = false;
    for (event, range) in parser.into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                in_code_block = true;
                let start = match kind {
                    // An indented block's range may start at the blank
                    // line before it: its first line with text.
                    CodeBlockKind::Indented => {
                        range.start + text[range.clone()].len()
                            - text[range.clone()].trim_start_matches(['\n', '\r']).len()
                    }
                    CodeBlockKind::Fenced(_) => range.start,
                };
                outline.code_blocks.push(line_of(start));
                outline.code.push(String::new());
            }
            Event::End(pulldown_cmark::TagEnd::CodeBlock) => in_code_block = false,
            Event::Start(Tag::Paragraph) => {
                let paragraph = text[range.clone()].trim_start();
                if paragraph.starts_with("{{#nslab hints")
                    || paragraph.starts_with("{{#nslab schedule")
                {
                    outline.block_directives.push(line_of(range.start));
                }
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                ..
            })
            | Event::Start(Tag::Image {
                link_type,
                dest_url,
                ..
            }) => outline.links.push(Link {
                address: dest_url.to_string(),
                autolink: matches!(link_type, LinkType::Autolink | LinkType::Email),
            }),
            Event::Code(code) => {
                outline.code.push(code.to_string());
                outline.code_spans.push(code.to_string());
            }
            Event::Text(piece) if in_code_block => {
                if let Some(block) = outline.code.last_mut() {
                    block.push_str(&piece);
                }
            }
            Event::Text(piece) => {
                outline.stray_backtick |= piece.contains('`');
                outline.prose.push_str(&piece);
                outline.prose.push('\n');
            }
            _ => {}
        }
    }
    outline
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_of_either_kind_and_in_list_items_are_code() {
        let text = "a\n\n~~~text\n{{#nslab hints sem}}\n~~~\n\n- item\n\n  ```rust\n  let x = [1](2);\n  ```\n\n{{#nslab schedule}}\n";
        let outline = outline(text);
        assert_eq!(outline.code_blocks, [3, 9]);
        assert_eq!(outline.block_directives, [13]);
        assert!(outline.links.is_empty(), "{:?}", outline.links);
    }

    #[test]
    fn reference_links_are_links_and_code_is_not() {
        let text = "[a][r], [b][], `x](y.md)` and ``z ` w``\n\n[r]: one.md#top\n";
        let outline = outline(text);
        let addresses: Vec<&str> = outline.links.iter().map(|l| l.address.as_str()).collect();
        assert_eq!(addresses, ["one.md#top", "[b]"]);
        assert_eq!(outline.code, ["x](y.md)", "z ` w"]);
        assert!(!outline.stray_backtick);
        assert!(self::outline("one ` tick").stray_backtick);
    }
}
