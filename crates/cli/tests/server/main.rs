//! Integration tests: real `kinoflow` processes, real HTTP on random ports,
//! real SQLite files and real ffprobe, on real footage.

mod access;
mod bad_input;
mod biomech;
mod cancel;
mod cli;
mod cluster;
mod end_to_end;
mod fairness;
mod frames;
mod frames_api;
mod harness;
mod jobs_api;
mod links;
mod mail;
mod openapi;
mod presign;
mod recovery;
mod webhooks;
