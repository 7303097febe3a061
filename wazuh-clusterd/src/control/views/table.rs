//! Wazuh's text tables: each column as wide as its longest cell plus 2, cells left-aligned and
//! padded with spaces (trailing spaces kept), the header upper-cased, rows joined with `\n`.

/// Renders `headers` (upper-cased) over `rows`.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let header: Vec<String> = headers.iter().map(|h| h.to_uppercase()).collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|column| {
            std::iter::once(&header)
                .chain(rows)
                .filter_map(|row| row.get(column))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
                + 2
        })
        .collect();
    std::iter::once(&header)
        .chain(rows)
        .map(|row| {
            row.iter()
                .zip(&widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_longest_cell_plus_two() {
        let rows = vec![
            vec!["wazuh-1".to_owned(), "master".to_owned()],
            vec!["w".to_owned(), "worker".to_owned()],
        ];
        assert_eq!(
            table(&["name", "type"], &rows),
            "NAME     TYPE    \nwazuh-1  master  \nw        worker  "
        );
    }
}
