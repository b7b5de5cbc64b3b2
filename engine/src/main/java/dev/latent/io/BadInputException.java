package dev.latent.io;

/**
 * Bad input from outside the program (a corrupt or truncated file, a field out of range, a row of the
 * wrong length, NaN where numbers are required). The message names the file (or source) and the
 * field at fault; nothing was half-written because of it. The CLI prints the message as one line and
 * exits with code 2.
 */
public class BadInputException extends IllegalArgumentException {

    public BadInputException(String message) {
        super(message);
    }

    public BadInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
