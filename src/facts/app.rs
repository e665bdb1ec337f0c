//! App facts: for every HTTP route, whether its handler file — or what it imports within the
//! repository, two imports deep — references the database and Redis (OB006).

use std::collections::{BTreeMap, BTreeSet};

use crate::model::app::AppFacts;

/// How many imports deep a route's handler is followed.
pub const IMPORT_DEPTH: usize = 2;

/// Sets `reaches_db` and `reaches_redis` on every route.
pub fn compute(app: &mut AppFacts) {
    let files: BTreeMap<&str, (&[String], bool, bool)> = app
        .files
        .iter()
        .map(|f| {
            (
                f.path.as_str(),
                (f.imports.as_slice(), f.references_db, f.references_redis),
            )
        })
        .collect();
    let mut flags = Vec::with_capacity(app.routes.len());
    for r in &app.routes {
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut frontier: Vec<&str> = vec![r.file.as_str()];
        seen.insert(r.file.as_str());
        for _ in 0..IMPORT_DEPTH {
            let mut next = Vec::new();
            for f in &frontier {
                for i in files.get(f).map(|x| x.0).unwrap_or_default() {
                    if seen.insert(i.as_str()) {
                        next.push(i.as_str());
                    }
                }
            }
            frontier = next;
        }
        let db = seen.iter().any(|f| files.get(f).is_some_and(|x| x.1));
        let redis = seen.iter().any(|f| files.get(f).is_some_and(|x| x.2));
        flags.push((db, redis));
    }
    for (r, (db, redis)) in app.routes.iter_mut().zip(flags) {
        r.reaches_db = db;
        r.reaches_redis = redis;
    }
}
