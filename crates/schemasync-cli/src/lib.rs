//! The schemasync command line.
