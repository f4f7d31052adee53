//! Training (K6): a course is published articles in order, no article twice; a person's
//! progress is the lessons they completed of it, and the course is completed when every
//! lesson is. Pure.

use std::collections::HashSet;

use uuid::Uuid;

/// The most lessons a course holds.
pub const MAX_LESSONS: usize = 100;

/// Why a course's lessons are refused: the first article named twice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LessonsRefused {
    Empty,
    TooMany(usize),
    Repeated { article_id: Uuid, position: usize },
}

/// The lessons as given, checked: one or more, at most [`MAX_LESSONS`], no article twice.
pub fn lessons(article_ids: &[Uuid]) -> Result<Vec<Uuid>, LessonsRefused> {
    if article_ids.is_empty() {
        return Err(LessonsRefused::Empty);
    }
    if article_ids.len() > MAX_LESSONS {
        return Err(LessonsRefused::TooMany(article_ids.len()));
    }
    let mut seen = HashSet::new();
    for (index, &article_id) in article_ids.iter().enumerate() {
        if !seen.insert(article_id) {
            return Err(LessonsRefused::Repeated {
                article_id,
                position: index + 1,
            });
        }
    }
    Ok(article_ids.to_vec())
}

/// How far a person is through a course.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    pub completed: u32,
    pub total: u32,
}

impl Progress {
    /// Completed ÷ total as a whole percent, rounded down: 100 only when every lesson is done
    /// (a course of three with two done is 66, not 67).
    pub fn percent(&self) -> u32 {
        if self.total == 0 {
            return 0;
        }
        let completed = self.completed.min(self.total);
        (u64::from(completed) * 100 / u64::from(self.total)) as u32
    }

    pub fn is_complete(&self) -> bool {
        self.total > 0 && self.completed >= self.total
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_course_names_each_article_once() {
        let first = Uuid::from_u128(1);
        let second = Uuid::from_u128(2);
        assert_eq!(lessons(&[first, second]), Ok(vec![first, second]));
        assert_eq!(
            lessons(&[first, second, first]),
            Err(LessonsRefused::Repeated {
                article_id: first,
                position: 3
            })
        );
        assert_eq!(lessons(&[]), Err(LessonsRefused::Empty));
        let many: Vec<Uuid> = (0..=MAX_LESSONS as u128).map(Uuid::from_u128).collect();
        assert_eq!(lessons(&many), Err(LessonsRefused::TooMany(101)));
    }

    #[test]
    fn percent_rounds_down_and_is_a_hundred_only_when_done() {
        let progress = |completed, total| Progress { completed, total };
        assert_eq!(progress(2, 3).percent(), 66);
        assert_eq!(progress(1, 3).percent(), 33);
        assert_eq!(progress(199, 200).percent(), 99);
        assert_eq!(progress(5, 5).percent(), 100);
        assert!(progress(5, 5).is_complete());
        assert!(!progress(4, 5).is_complete());
        assert_eq!(progress(0, 0).percent(), 0);
        assert!(!progress(0, 0).is_complete());
    }

    proptest! {
        #[test]
        fn percent_is_monotone_and_bounded(total in 1u32..500, completed in 0u32..500) {
            let progress = Progress { completed: completed.min(total), total };
            let percent = progress.percent();
            prop_assert!(percent <= 100);
            prop_assert_eq!(percent == 100, progress.is_complete());
            if completed < total {
                let next = Progress { completed: completed + 1, total }.percent();
                prop_assert!(next >= percent);
            }
        }
    }
}
