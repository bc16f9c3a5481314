//! Group commit of submissions: jobs submitted while a commit is under way
//! wait for it, then go into the database together in the next transaction,
//! one savepoint per submission (so one refused submission leaves the others
//! queued). Single submissions and batches share this path; a lone
//! submission waits for nothing.

use std::sync::{Arc, OnceLock};

use kinoflow_store::{JobRecord, NewJob, Store, StoreError, StoreResult};
use tokio::sync::{mpsc, oneshot};

/// The most jobs one transaction queues; what is left waits for the next.
const MAX_JOBS_PER_COMMIT: usize = 5000;

/// One submission waiting for its commit.
struct Waiting {
    jobs: Vec<NewJob>,
    answer: oneshot::Sender<StoreResult<Vec<(JobRecord, bool)>>>,
}

/// The queue of submissions and the task that commits them, started on
/// first use (inside the runtime that submits).
pub(crate) struct GroupCommit {
    store: Arc<dyn Store>,
    queue: OnceLock<mpsc::UnboundedSender<Waiting>>,
}

impl GroupCommit {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            queue: OnceLock::new(),
        }
    }

    /// Queues `jobs`, all or none, with whatever else was submitted
    /// meanwhile; the jobs as queued (or as their idempotency key found
    /// them, `false` beside those).
    pub async fn queue(&self, jobs: Vec<NewJob>) -> StoreResult<Vec<(JobRecord, bool)>> {
        let queue = self.queue.get_or_init(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            tokio::spawn(commit_in_groups(self.store.clone(), receiver));
            sender
        });
        let (answer, answered) = oneshot::channel();
        queue
            .send(Waiting { jobs, answer })
            .map_err(|_| StoreError::Unavailable("the submission queue has stopped".into()))?;
        answered
            .await
            .map_err(|_| StoreError::Unavailable("the submission queue has stopped".into()))?
    }
}

/// Commits what waits, each time all of it (up to a bound) in one
/// transaction, until every sender is gone.
async fn commit_in_groups(store: Arc<dyn Store>, mut receiver: mpsc::UnboundedReceiver<Waiting>) {
    while let Some(first) = receiver.recv().await {
        let mut size = first.jobs.len();
        let mut waiting = vec![first];
        while size < MAX_JOBS_PER_COMMIT {
            match receiver.try_recv() {
                Ok(next) => {
                    size += next.jobs.len();
                    waiting.push(next);
                }
                Err(_) => break,
            }
        }
        let groups = waiting
            .iter_mut()
            .map(|waiting| std::mem::take(&mut waiting.jobs))
            .collect();
        match store.create_job_groups(groups).await {
            Ok(answers) => {
                for (waiting, answer) in waiting.into_iter().zip(answers) {
                    let _ = waiting.answer.send(answer);
                }
            }
            Err(error) => {
                let shared = error.to_string();
                let mut error = Some(error);
                for waiting in waiting {
                    let own = error
                        .take()
                        .unwrap_or_else(|| StoreError::Unavailable(shared.clone()));
                    let _ = waiting.answer.send(Err(own));
                }
            }
        }
    }
}
