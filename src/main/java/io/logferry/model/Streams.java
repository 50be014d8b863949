package io.logferry.model;

/** Which of a container's streams are shipped ({@code defaults.streams}, {@code logferry.streams}). */
public enum Streams { ALL, STDOUT, STDERR }
