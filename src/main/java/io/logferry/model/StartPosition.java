package io.logferry.model;

/** Where a container the registry has not seen is read from ({@code defaults.start_position}). */
public enum StartPosition { BEGINNING, END }
