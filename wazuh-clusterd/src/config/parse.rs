//! Pulls the `<cluster>` block out of a whole `ossec.conf` (which may have several
//! `<ossec_config>` roots, comments and many other blocks) as raw text fields with line numbers.

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;
use quick_xml::name::QName;

use super::error::{ConfigError, ConfigWarning};

/// One element's trimmed text and where it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawField {
    /// The element's name.
    pub tag: String,
    /// Its text, entities resolved, surrounding whitespace removed.
    pub text: String,
    /// 1-based line of its start tag.
    pub line: usize,
}

/// Everything found in the `<cluster>` blocks, before any value is judged.
#[derive(Debug, Default)]
pub(crate) struct RawCluster {
    /// Whether any `<cluster>` block exists (directly under a root element).
    pub found: bool,
    /// Leaf children of `<cluster>`, in file order, repeats included.
    pub fields: Vec<RawField>,
    /// `<node>` entries of the last `<nodes>` block.
    pub nodes: Vec<RawField>,
    /// Children of every `<intervals>` block, in file order.
    pub intervals: Vec<RawField>,
    /// The last `<tls>` block: the line of its start tag and its children.
    pub tls: Option<(usize, Vec<RawField>)>,
    /// `<listen>` children of every `<metrics>` block, in file order.
    pub metrics: Vec<RawField>,
    /// Unknown or repeated structure seen while reading.
    pub warnings: Vec<ConfigWarning>,
}

/// Reads `xml` and returns the `<cluster>` content. Everything else is skipped unread.
pub(crate) fn extract_cluster(xml: &str) -> Result<RawCluster, ConfigError> {
    let mut parser = Parser {
        reader: Reader::from_str(xml),
        lines: LineIndex::new(xml),
        raw: RawCluster::default(),
    };
    parser.document()?;
    Ok(parser.raw)
}

struct Parser<'a> {
    reader: Reader<&'a [u8]>,
    lines: LineIndex,
    raw: RawCluster,
}

impl<'a> Parser<'a> {
    fn document(&mut self) -> Result<(), ConfigError> {
        let mut depth = 0usize;
        loop {
            match self.next()? {
                Event::Start(start) => {
                    if depth == 1 && start.name().as_ref() == "cluster" {
                        self.raw.found = true;
                        self.cluster()?;
                    } else {
                        depth += 1;
                    }
                }
                Event::Empty(start) if depth == 1 && start.name().as_ref() == "cluster" => {
                    self.raw.found = true;
                }
                Event::End(_) => depth = depth.saturating_sub(1),
                Event::Eof => return Ok(()),
                _ => {}
            }
        }
    }

    /// Reads the children of `<cluster>` up to its end tag.
    fn cluster(&mut self) -> Result<(), ConfigError> {
        loop {
            match self.next()? {
                Event::Start(start) => {
                    let tag = name_of(start.name().as_ref());
                    let line = self.line();
                    match tag.as_str() {
                        "nodes" => {
                            if !self.raw.nodes.is_empty() {
                                self.raw.warnings.push(ConfigWarning::Repeated {
                                    tag: tag.clone(),
                                    line,
                                });
                            }
                            self.raw.nodes = self.children("nodes", Some("node"))?;
                        }
                        "intervals" => {
                            let children = self.children("intervals", None)?;
                            self.raw.intervals.extend(children);
                        }
                        "tls" => {
                            if self.raw.tls.is_some() {
                                self.raw.warnings.push(ConfigWarning::Repeated {
                                    tag: tag.clone(),
                                    line,
                                });
                            }
                            self.raw.tls = Some((line, self.children("tls", None)?));
                        }
                        "metrics" => {
                            let children = self.children("metrics", Some("listen"))?;
                            self.raw.metrics.extend(children);
                        }
                        _ => {
                            let text = self.text(&tag)?;
                            self.raw.fields.push(RawField { tag, text, line });
                        }
                    }
                }
                Event::Empty(start) => {
                    let tag = name_of(start.name().as_ref());
                    let line = self.line();
                    if tag == "nodes" {
                        self.raw.nodes.clear();
                    } else if tag == "tls" {
                        self.raw.tls = Some((line, Vec::new()));
                    } else if tag != "intervals" && tag != "metrics" {
                        self.raw.fields.push(RawField {
                            tag,
                            text: String::new(),
                            line,
                        });
                    }
                }
                Event::End(_) => return Ok(()),
                Event::Eof => return Err(self.unexpected_eof("cluster")),
                _ => {}
            }
        }
    }

    /// Reads the leaf children of a list block (`<nodes>`, `<intervals>`). With `only`, other
    /// children are warned about and skipped.
    fn children(
        &mut self,
        parent: &'static str,
        only: Option<&str>,
    ) -> Result<Vec<RawField>, ConfigError> {
        let mut out = Vec::new();
        loop {
            match self.next()? {
                Event::Start(start) => {
                    let tag = name_of(start.name().as_ref());
                    let line = self.line();
                    if only.is_some_and(|wanted| wanted != tag) {
                        self.unknown_skipped(tag, parent, line)?;
                    } else {
                        let text = self.text(&tag)?;
                        out.push(RawField { tag, text, line });
                    }
                }
                Event::Empty(start) => {
                    let tag = name_of(start.name().as_ref());
                    let line = self.line();
                    if only.is_some_and(|wanted| wanted != tag) {
                        self.warn_unknown(tag, parent, line);
                    } else {
                        out.push(RawField {
                            tag,
                            text: String::new(),
                            line,
                        });
                    }
                }
                Event::End(_) => return Ok(out),
                Event::Eof => return Err(self.unexpected_eof(parent)),
                _ => {}
            }
        }
    }

    /// Reads the text of a leaf element up to its end tag. Child elements are not expected
    /// there: they are warned about and skipped.
    fn text(&mut self, tag: &str) -> Result<String, ConfigError> {
        let mut text = String::new();
        loop {
            match self.next()? {
                Event::Text(t) => text.push_str(&t.xml10_content()),
                Event::CData(c) => text.push_str(&c.xml10_content()),
                Event::GeneralRef(reference) => {
                    let line = self.line();
                    match reference.resolve_char_ref() {
                        Ok(Some(c)) => text.push(c),
                        Ok(None) => match resolve_predefined_entity(&reference) {
                            Some(s) => text.push_str(s),
                            None => {
                                return Err(ConfigError::Xml {
                                    line,
                                    message: format!(
                                        "unknown entity &{};, only &lt; &gt; &amp; &apos; &quot; \
                                         and character references are allowed",
                                        &*reference
                                    ),
                                });
                            }
                        },
                        Err(e) => {
                            return Err(ConfigError::Xml {
                                line,
                                message: e.to_string(),
                            });
                        }
                    }
                }
                Event::Start(start) => {
                    let child = name_of(start.name().as_ref());
                    let line = self.line();
                    self.unknown_skipped(child, tag, line)?;
                }
                Event::Empty(start) => {
                    let child = name_of(start.name().as_ref());
                    let line = self.line();
                    self.warn_unknown(child, tag, line);
                }
                Event::End(_) => return Ok(text.trim().to_string()),
                Event::Eof => return Err(self.unexpected_eof(tag)),
                _ => {}
            }
        }
    }

    fn unknown_skipped(
        &mut self,
        tag: String,
        parent: &str,
        line: usize,
    ) -> Result<(), ConfigError> {
        self.reader
            .read_to_end(QName(&tag))
            .map_err(|e| self.xml_error(e))?;
        self.warn_unknown(tag, parent, line);
        Ok(())
    }

    fn warn_unknown(&mut self, tag: String, parent: &str, line: usize) {
        self.raw.warnings.push(ConfigWarning::UnknownTag {
            tag,
            parent: parent.to_string(),
            line,
        });
    }

    fn next(&mut self) -> Result<Event<'a>, ConfigError> {
        self.reader.read_event().map_err(|e| self.xml_error(e))
    }

    fn line(&self) -> usize {
        self.lines.line_of(self.reader.buffer_position())
    }

    fn xml_error(&self, error: quick_xml::Error) -> ConfigError {
        ConfigError::Xml {
            line: self.lines.line_of(self.reader.error_position()),
            message: error.to_string(),
        }
    }

    fn unexpected_eof(&self, open: &str) -> ConfigError {
        ConfigError::Xml {
            line: self.line(),
            message: format!("the file ends inside <{open}>; close it with </{open}>"),
        }
    }
}

fn name_of(name: &str) -> String {
    name.to_string()
}

/// Byte offset to 1-based line number.
struct LineIndex {
    newlines: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        LineIndex {
            newlines: text
                .bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i)
                .collect(),
        }
    }

    fn line_of(&self, offset: u64) -> usize {
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        self.newlines.partition_point(|&nl| nl < offset) + 1
    }
}
