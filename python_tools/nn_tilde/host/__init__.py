"""Host simulation: read a model file's methods and judge its calls by nn~'s rules (read), load and
call its methods the way nn~ does (probe), and time those calls (timing). Used by the checker,
the bench and export. Also the real host: running PureData on generated patches (pd), for the
tests, the benchmarks and the demo."""
