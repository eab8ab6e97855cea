"""Keras-style progress lines for ``fit``: ``verbose=1`` a bar over the
samples with the running loss, ``verbose=2`` one line per epoch, ``0``
silence.  As in Keras, the bar is redrawn only on a terminal; written to a
file or pipe, it appears once, complete, at the end of each epoch."""
import sys
import time

BAR_WIDTH = 30


class Progress:
    def __init__(self, verbose, n_epochs, n_samples, stream=None):
        self.verbose = verbose
        self.n_epochs = n_epochs
        self.n_samples = n_samples
        self.stream = stream or sys.stdout
        self._start = None

    def _write(self, text):
        self.stream.write(text)
        self.stream.flush()

    def _interactive(self):
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())

    def start_epoch(self, epoch):
        self._start = time.perf_counter()
        if self.verbose:
            self._write(f"Epoch {epoch + 1}/{self.n_epochs}\n")

    def update(self, done, running_loss):
        if self.n_samples is None:
            # A stream of unknown length: the count alone.
            if self.verbose == 1 and self._interactive():
                self._write(f"\r{done} - loss: {running_loss:.4f}")
            return
        if self.verbose != 1 or (done < self.n_samples
                                 and not self._interactive()):
            return
        filled = BAR_WIDTH * min(done, self.n_samples) // self.n_samples
        bar = "=" * filled + (">" if filled < BAR_WIDTH else "")
        width = len(str(self.n_samples))
        self._write(f"\r{done:>{width}}/{self.n_samples} "
                    f"[{bar:<{BAR_WIDTH}}] - loss: {running_loss:.4f}")

    def end_epoch(self, logs, n_samples=None):
        """``logs``: the epoch's loss, metrics and validation, by name;
        ``n_samples`` the epoch trained (by default, ``n_samples``)."""
        if not self.verbose:
            return
        seconds = time.perf_counter() - self._start
        if self.verbose == 1:
            self._write("\n")
        values = " - ".join(f"{name}: {value:.4f}"
                            for name, value in logs.items())
        done = self.n_samples if n_samples is None else n_samples
        self._write(f"{done} samples - {seconds:.1f}s - "
                    f"{values}\n")
