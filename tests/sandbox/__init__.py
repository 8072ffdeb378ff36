"""Tests of the offline sandbox emulators."""
