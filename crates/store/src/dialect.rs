//! What differs between the databases the store runs on, and nothing else:
//! the two claims (row locks and planner hints), reading a batch of leases
//! from JSON, how a queued job wakes idle
//! workers, how claims under a cap are made one at a time, and which of a
//! compatible API's schemas applies. Everything
//! else is written once, in the modules named after what they keep.

use std::future::Future;
use std::sync::Arc;

use sqlx::Pool;
use tokio::sync::Notify;

use crate::extension::{Extension, ExtensionDatabase, ExtensionMigration};
use crate::repository::StoreResult;
use crate::sql::Backend;

/// How a database claims a batch of jobs.
pub(crate) enum Claim {
    /// All in one statement (`sql/*/claim_jobs.sql`): binds the leases'
    /// expiry, the node, now, the pipelines as a JSON array, the cap, how
    /// many and whether there is no cap; returns the rows of the jobs
    /// claimed, each with a lease token of its own.
    Batch(&'static str),
    /// One job per statement, repeated in one transaction
    /// (`sql/*/claim_job.sql`): binds the lease, its expiry, the node, now,
    /// the pipelines as a JSON array and the cap; returns the job's row.
    OneByOne(&'static str),
}

/// A database with the store's schema, and the SQL that is its own.
pub(crate) trait Dialect: Backend {
    /// How this database claims jobs.
    const CLAIM: Claim;
    /// Renews many leases (see `sql/*/renew_leases.sql`): binds the new
    /// expiry, now and the leases as a JSON array; returns the id and cancel
    /// flag of each job still held.
    const RENEW_LEASES: &'static str;
    /// Ends many holds (see `sql/*/finish_jobs.sql`): binds now and the
    /// endings as a JSON array; returns the rows of the jobs that ended.
    const FINISH_JOBS: &'static str;
    /// Appends many events in order (see `sql/*/insert_events.sql`): binds
    /// them as a JSON array and now.
    const INSERT_EVENTS: &'static str;
    /// Queues many jobs without idempotency keys (see
    /// `sql/*/insert_jobs.sql`): binds now and the jobs as a JSON array;
    /// returns their rows.
    const INSERT_JOBS: &'static str;
    /// Claims due deliveries (see `sql/*/claim_deliveries.sql`): binds the
    /// hold's end, now, whether e-mail is taken and the limit.
    const CLAIM_DELIVERIES: &'static str;
    /// Run in the transaction that makes a job claimable, to wake the idle
    /// workers of other processes when it commits; `None` where they poll.
    const ANNOUNCE_NEW_JOB: Option<&'static str>;
    /// Run first in a claim under a cap, so that it waits for the claims in
    /// progress and counts the jobs they start; `None` where claims are
    /// serial anyway.
    const SERIALIZE_CLAIMS: Option<&'static str>;
    /// Run first in each step of an extension's schema, so that nodes
    /// starting together apply it once; `None` where writes are serial anyway.
    const SERIALIZE_MIGRATIONS: Option<&'static str>;

    /// Wakes `wake`'s waiters whenever another process queues a job, until
    /// an error; returns at once where the database cannot tell.
    /// The steps of an extension's schema written for this database.
    fn extension_steps(extension: &Extension) -> &'static [ExtensionMigration];

    /// The pool, as an extension sees it.
    fn extension_database(pool: &Pool<Self>) -> ExtensionDatabase<'_>;

    fn watch_new_jobs(
        pool: &Pool<Self>,
        wake: Arc<Notify>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
}
