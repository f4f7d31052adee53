//! The proto comments the document's prose comes from.

use std::collections::HashMap;

use prost_reflect::{DescriptorPool, FieldDescriptor, FileDescriptor};

/// The summary of a documented RPC: the first sentence of its comment's first paragraph.
pub(super) fn first_sentence(comment: &str) -> String {
    let paragraph = comment.split("\n\n").next().unwrap_or(comment);
    let joined = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
    match joined.find(". ") {
        Some(end) => joined[..=end].to_owned(),
        None => joined,
    }
}

/// The summary of an undocumented RPC: its name in words (`GetAccount` → `Get account`).
pub(super) fn words(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for (index, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && index > 0 {
            out.push(' ');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The source comments of the pool's files, by file and descriptor path: leading comments,
/// else trailing ones (`string phone = 8; // E.164`), with each line trimmed.
pub(super) struct Comments {
    files: HashMap<String, HashMap<Vec<i32>, String>>,
}

impl Comments {
    pub(super) fn new(pool: &DescriptorPool) -> Self {
        let mut files = HashMap::new();
        for file in pool.files() {
            let Some(info) = &file.file_descriptor_proto().source_code_info else {
                continue;
            };
            let mut comments = HashMap::new();
            for location in &info.location {
                let text = location
                    .leading_comments
                    .as_deref()
                    .and_then(clean_comment)
                    .or_else(|| {
                        location
                            .trailing_comments
                            .as_deref()
                            .and_then(clean_comment)
                    });
                if let Some(text) = text {
                    comments.entry(location.path.clone()).or_insert(text);
                }
            }
            files.insert(file.name().to_owned(), comments);
        }
        Self { files }
    }

    pub(super) fn get(&self, file: &FileDescriptor, path: &[i32]) -> Option<&str> {
        self.files.get(file.name())?.get(path).map(String::as_str)
    }

    pub(super) fn of_field(&self, field: &FieldDescriptor) -> Option<&str> {
        self.get(&field.parent_file(), field.path())
    }
}

/// Trims every line (protoc keeps the space after `//`) and drops blank lines at either end;
/// `None` for a comment with no text.
pub(super) fn clean_comment(raw: &str) -> Option<String> {
    let lines: Vec<&str> = raw.lines().map(str::trim).collect();
    let first = lines.iter().position(|line| !line.is_empty())?;
    let last = lines.iter().rposition(|line| !line.is_empty())?;
    Some(lines[first..=last].join("\n"))
}
