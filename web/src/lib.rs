//! The Mote browser playground. Not built yet: see issue 5.
