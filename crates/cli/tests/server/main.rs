//! Integration tests: real `kinoflow` processes, real HTTP on random ports,
//! real SQLite files and real ffprobe, on real footage.

mod abuse_auth;
mod access;
mod ai_provider;
mod backup;
mod bad_input;
mod biomech;
mod cancel;
mod cli;
mod cluster;
mod cors;
mod deepemotion;
mod emotion;
mod end_to_end;
mod fairness;
mod frames;
mod frames_api;
mod harness;
mod idempotency;
mod jobs_api;
mod limits;
mod links;
mod mail;
mod media_failures;
mod openapi;
mod presign;
mod production_variables;
mod receiver;
mod recovery;
mod relevance;
mod render;
mod shortsai;
mod storage_limits;
mod stored;
mod upload_cleanup;
mod webhooks;
