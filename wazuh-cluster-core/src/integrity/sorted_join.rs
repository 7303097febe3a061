//! [`outer_join`]: two sequences sorted by path walked together, each path once with what each
//! side holds for it.
//!
//! A comparison of the master's table with a worker's used to look every path of one side up
//! in the other's `BTreeMap`: about 14 string comparisons per path at 10,000 files, over paths
//! that share long prefixes (`etc/shared/group0042/...`), and `memcmp` was a fifth of the
//! master's CPU in the 25-worker change storm (`perf record` of `loadtest`'s master,
//! benches/README.md). Walking both sorted sides together compares each path once or twice.

use std::cmp::Ordering;
use std::iter::Peekable;

/// What the two sides hold for one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Joined<L, R> {
    /// Only the left side.
    Left(L),
    /// Only the right side.
    Right(R),
    /// Both sides.
    Both(L, R),
}

/// The outer join of `left` and `right` by path, in path order. Each side must be sorted by
/// path (byte order, as `BTreeMap<String, _>` iterates) without repeats.
pub(crate) fn outer_join<'a, L, R>(
    left: impl IntoIterator<Item = (&'a str, L)>,
    right: impl IntoIterator<Item = (&'a str, R)>,
) -> impl Iterator<Item = (&'a str, Joined<L, R>)> {
    OuterJoin {
        left: left.into_iter().peekable(),
        right: right.into_iter().peekable(),
    }
}

struct OuterJoin<A: Iterator, B: Iterator> {
    left: Peekable<A>,
    right: Peekable<B>,
}

impl<'a, L, R, A, B> Iterator for OuterJoin<A, B>
where
    A: Iterator<Item = (&'a str, L)>,
    B: Iterator<Item = (&'a str, R)>,
{
    type Item = (&'a str, Joined<L, R>);

    fn next(&mut self) -> Option<Self::Item> {
        let order = match (self.left.peek(), self.right.peek()) {
            (None, None) => return None,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some((l, _)), Some((r, _))) => l.cmp(r),
        };
        Some(match order {
            Ordering::Less => {
                let (path, l) = self.left.next()?;
                (path, Joined::Left(l))
            }
            Ordering::Greater => {
                let (path, r) = self.right.next()?;
                (path, Joined::Right(r))
            }
            Ordering::Equal => {
                let (path, l) = self.left.next()?;
                let (_, r) = self.right.next()?;
                (path, Joined::Both(l, r))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn every_path_once_in_order_with_each_side() {
        let left = BTreeMap::from([("a/1", 1), ("a/3", 3), ("b", 4)]);
        let right = BTreeMap::from([("a/2", 'x'), ("a/3", 'y'), ("c", 'z')]);
        let joined: Vec<_> = outer_join(
            left.iter().map(|(p, v)| (*p, *v)),
            right.iter().map(|(p, v)| (*p, *v)),
        )
        .collect();
        assert_eq!(
            joined,
            [
                ("a/1", Joined::Left(1)),
                ("a/2", Joined::Right('x')),
                ("a/3", Joined::Both(3, 'y')),
                ("b", Joined::Left(4)),
                ("c", Joined::Right('z')),
            ]
        );
    }

    #[test]
    fn an_empty_side_gives_the_other_whole() {
        let empty: [(&str, u8); 0] = [];
        let joined: Vec<_> = outer_join([("x", 1u8), ("y", 2)], empty).collect();
        assert_eq!(joined, [("x", Joined::Left(1)), ("y", Joined::Left(2))]);
        assert_eq!(outer_join(empty, empty).count(), 0);
    }
}
