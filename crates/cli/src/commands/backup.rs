//! `kinoflow backup create|list|verify|restore`: backups of the configured
//! database and blob folder, by hand or from cron.

use std::path::PathBuf;

use clap::Subcommand;

use kinoflow::backup::{self, folder, BackupSource};
use kinoflow::config::{Config, RawSettings};

#[derive(Subcommand)]
pub enum BackupCommand {
    /// Write a backup archive of the database (and of the blob folder, when
    /// storage is local) into the backup folder, then delete all but the
    /// newest --backup-keep archives there.
    Create {
        #[command(flatten)]
        settings: RawSettings,
    },
    /// The archives in the backup folder, newest first.
    List {
        #[command(flatten)]
        settings: RawSettings,
    },
    /// Check an archive without restoring it: its manifest, every checksum,
    /// and that its database dump can be read.
    Verify {
        /// The archive, e.g. data/backups/kinoflow-backup-20250101T000000.000Z.tar.gz
        archive: PathBuf,
    },
    /// Replace the configured database (and the blob folder, when storage is
    /// local) with an archive's, then apply this kinoflow's migrations.
    /// Refuses while a node is running on the database.
    Restore {
        archive: PathBuf,
        /// Restore even when a node seems to run on the database.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        settings: RawSettings,
    },
}

pub async fn run(command: BackupCommand) -> anyhow::Result<()> {
    match command {
        BackupCommand::Create { settings } => {
            let config = Config::load(settings)?;
            let (dir, keep) = (&config.backup.backup_dir, config.backup.backup_keep);
            let source = BackupSource::open(&config.deployment()?).await?;
            let created = source.back_up_and_rotate(dir, keep).await;
            source.close().await;
            let (archive, deleted) = created?;
            println!(
                "{} ({})",
                archive.path.display(),
                folder::human_size(archive.size)
            );
            for old in deleted {
                println!("deleted {}", old.display());
            }
            Ok(())
        }
        BackupCommand::List { settings } => {
            let config = Config::load(settings)?;
            for archive in folder::list(&config.backup.backup_dir)? {
                println!(
                    "{}  {:>10}  {}",
                    archive.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    folder::human_size(archive.size),
                    archive.path.display()
                );
            }
            Ok(())
        }
        BackupCommand::Verify { archive } => {
            let manifest = backup::verify(&archive).await?;
            println!(
                "{} is sound: {} entries, a {} database, blobs {}, written by kinoflow {} at {}",
                archive.display(),
                manifest.entries.len(),
                manifest.database.describe(),
                if manifest.blobs.included {
                    "included"
                } else {
                    "not included (S3)"
                },
                manifest.kinoflow_version,
                manifest.created_at.to_rfc3339(),
            );
            Ok(())
        }
        BackupCommand::Restore {
            archive,
            force,
            settings,
        } => {
            let config = Config::load(settings)?;
            let restored = backup::restore(&archive, &config.deployment()?, force).await?;
            println!(
                "restored {} (written at {})",
                archive.display(),
                restored.manifest.created_at.to_rfc3339()
            );
            if !restored.blobs_replaced {
                println!(
                    "the archive holds no blobs (its storage was {}): the storage was left as it is",
                    restored.manifest.blobs.storage
                );
            }
            Ok(())
        }
    }
}
