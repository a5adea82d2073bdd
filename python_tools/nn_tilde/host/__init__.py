"""Host simulation: load a model file and call its methods the way nn~ does (probe), and time
those calls (timing). Used by the checker, the bench and export."""
