{
 "patcher": {
  "fileversion": 1,
  "appversion": {
   "major": 8,
   "minor": 6,
   "revision": 0,
   "architecture": "x64",
   "modernui": 1
  },
  "classnamespace": "box",
  "rect": [
   80.0,
   80.0,
   900.0,
   840.0
  ],
  "default_fontsize": 12.0,
  "gridsize": [
   15.0,
   15.0
  ],
  "boxes": [
   {
    "box": {
     "maxclass": "comment",
     "text": "nn~",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      15,
      10,
      200.0,
      38.400000000000006
     ],
     "fontsize": 24.0,
     "id": "obj-1"
    }
   },
   {
    "box": {
     "maxclass": "comment",
     "text": "Run a TorchScript neural audio model live: one worker thread per object, the audio thread never waits under the live policies. Same engine as the Pd external.",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      15,
      50,
      560.0,
      34.0
     ],
     "id": "obj-2"
    }
   },
   {
    "box": {
     "maxclass": "comment",
     "text": "nn~ <model> [<method>] [<buffer size>] @enable 0|1 @policy wait|silence|hold",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      15,
      85,
      560.0,
      20.0
     ],
     "id": "obj-3"
    }
   },
   {
    "box": {
     "maxclass": "newobj",
     "text": "cycle~ 220",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      "signal"
     ],
     "patching_rect": [
      15,
      130,
      104.0,
      22.0
     ],
     "id": "obj-4"
    }
   },
   {
    "box": {
     "maxclass": "newobj",
     "text": "*~ 0.8",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      "signal"
     ],
     "patching_rect": [
      15,
      165,
      72.0,
      22.0
     ],
     "id": "obj-5"
    }
   },
   {
    "box": {
     "maxclass": "newobj",
     "text": "nn~ demo forward",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "signal",
      ""
     ],
     "patching_rect": [
      15,
      568.0,
      140.0,
      22.0
     ],
     "id": "obj-6"
    }
   },
   {
    "box": {
     "maxclass": "message",
     "text": "load demo encode",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      260,
      130,
      132.0,
      22.0
     ],
     "id": "obj-7"
    }
   },
   {
    "box": {
     "maxclass": "comment",
     "text": "load a model / method off the audio thread",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      430.0,
      130,
      300.0,
      20.0
     ],
     "id": "obj-8"
    }
   },
   {
    "box": {
     "maxclass": "message",
     "text": "reload",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      260,
      158.0,
      62.0,
      22.0
     ],
     "id": "obj-9"
    }
   },
   {
    "box": {
     "maxclass": "comment",
     "text": "read the same file again",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      430.0,
      158.0,
      300.0,
      20.0
     ],
     "id": "obj-10"
    }
   },
   {
    "box": {
     "maxclass": "message",
     "text": "method forward",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      260,
      186.0,
      118.0,
      22.0
     ],
     "id": "obj-11"
    }
   },
   {
    "box": {
     "maxclass": "comment",
     "text": "switch method (inlets are fixed at creation)",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      430.0,
      186.0,
      300.0,
      20.0
     ],
     "id": "obj-12"
    }
   },
   {
    "box": {
     "maxclass": "message",
     "text": "set drive 8",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      260,
      214.0,
      97.0,
      22.0
     ],
     "id": "obj-13"
    }
   },
   {
    "box": {
     "maxclass": "comment",
     "text": "set a model attribute (a buffer~ name for buffers)",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      430.0,
      214.0,
      300.0,
      34.0
     ],
     "id": "obj-14"
    }
   },
   {
    "box": {
     "maxclass": "message",
     "text": "get drive",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      260,
      254.0,
      83.0,
      22.0
     ],
     "id": "obj-15"
    }
   },
   {
    "box": {
     "maxclass": "comment",
     "text": "the value comes out of the right outlet",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      430.0,
      254.0,
      300.0,
      20.0
     ],
     "id": "obj-16"
    }
   },
   {
    "box": {
     "maxclass": "message",
     "text": "bufsize 4096",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      260,
      282.0,
      104.0,
      22.0
     ],
     "id": "obj-17"
    }
   },
   {
    "box": {
     "maxclass": "comment",
     "text": "samples per model call (a multiple of its ratios)",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      430.0,
      282.0,
      300.0,
      34.0
     ],
     "id": "obj-18"
    }
   },
   {
    "box": {
     "maxclass": "message",
     "text": "headroom 1",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      260,
      322.0,
      90.0,
      22.0
     ],
     "id": "obj-19"
    }
   },
   {
    "box": {
     "maxclass": "comment",
     "text": "1 more buffer of latency for a model slower than real time",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      430.0,
      322.0,
      300.0,
      34.0
     ],
     "id": "obj-20"
    }
   },
   {
    "box": {
     "maxclass": "message",
     "text": "info",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      260,
      362.0,
      48.0,
      22.0
     ],
     "id": "obj-21"
    }
   },
   {
    "box": {
     "maxclass": "comment",
     "text": "state, model, method, labels, latency... (also bang)",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      430.0,
      362.0,
      300.0,
      34.0
     ],
     "id": "obj-22"
    }
   },
   {
    "box": {
     "maxclass": "message",
     "text": "stats",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      260,
      402.0,
      55.0,
      22.0
     ],
     "id": "obj-23"
    }
   },
   {
    "box": {
     "maxclass": "comment",
     "text": "blocks, late blocks, drops, model time",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      430.0,
      402.0,
      300.0,
      20.0
     ],
     "id": "obj-24"
    }
   },
   {
    "box": {
     "maxclass": "message",
     "text": "resetstats",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      260,
      430.0,
      90.0,
      22.0
     ],
     "id": "obj-25"
    }
   },
   {
    "box": {
     "maxclass": "comment",
     "text": "zero the counters",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      430.0,
      430.0,
      300.0,
      20.0
     ],
     "id": "obj-26"
    }
   },
   {
    "box": {
     "maxclass": "message",
     "text": "enable 0",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      260,
      458.0,
      76.0,
      22.0
     ],
     "id": "obj-27"
    }
   },
   {
    "box": {
     "maxclass": "comment",
     "text": "output silence, the worker idles",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      430.0,
      458.0,
      300.0,
      20.0
     ],
     "id": "obj-28"
    }
   },
   {
    "box": {
     "maxclass": "message",
     "text": "enable 1",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      260,
      486.0,
      76.0,
      22.0
     ],
     "id": "obj-29"
    }
   },
   {
    "box": {
     "maxclass": "comment",
     "text": "call the model again",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      430.0,
      486.0,
      300.0,
      20.0
     ],
     "id": "obj-30"
    }
   },
   {
    "box": {
     "maxclass": "attrui",
     "numinlets": 1,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      260,
      514.0,
      160.0,
      22.0
     ],
     "attr": "policy",
     "parameter_enable": 0,
     "id": "obj-31"
    }
   },
   {
    "box": {
     "maxclass": "comment",
     "text": "When the model is late: wait (default, complete renders), silence or hold (never wait; late blocks are counted in stats).",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      430,
      514.0,
      400.0,
      34.0
     ],
     "id": "obj-32"
    }
   },
   {
    "box": {
     "maxclass": "newobj",
     "text": "*~ 0.2",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      "signal"
     ],
     "patching_rect": [
      15,
      638.0,
      72.0,
      22.0
     ],
     "id": "obj-33"
    }
   },
   {
    "box": {
     "maxclass": "ezdac~",
     "numinlets": 2,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      15,
      678.0,
      45.0,
      45.0
     ],
     "id": "obj-34"
    }
   },
   {
    "box": {
     "maxclass": "newobj",
     "text": "print nn~",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      160,
      638.0,
      96.0,
      22.0
     ],
     "id": "obj-35"
    }
   },
   {
    "box": {
     "maxclass": "comment",
     "text": "Turn audio on: a sine through the demo model's soft saturator (forward, 1 -> 1). Latency: 2 x buffer size for Max's usual vector sizes; `info` reports it exactly.",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      80,
      688.0,
      400.0,
      48.0
     ],
     "id": "obj-36"
    }
   },
   {
    "box": {
     "maxclass": "comment",
     "text": "Errors (missing file, a model that throws, NaN output) are printed in the Max console from the main thread; a failing model outputs silence until reload. Inlet/outlet assistance shows the method's labels. Not yet run inside Max: see the package README.",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      15,
      756.0,
      600.0,
      48.0
     ],
     "id": "obj-37"
    }
   }
  ],
  "lines": [
   {
    "patchline": {
     "source": [
      "obj-4",
      0
     ],
     "destination": [
      "obj-5",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-5",
      0
     ],
     "destination": [
      "obj-6",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-7",
      0
     ],
     "destination": [
      "obj-6",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-9",
      0
     ],
     "destination": [
      "obj-6",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-11",
      0
     ],
     "destination": [
      "obj-6",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-13",
      0
     ],
     "destination": [
      "obj-6",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-15",
      0
     ],
     "destination": [
      "obj-6",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-17",
      0
     ],
     "destination": [
      "obj-6",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-19",
      0
     ],
     "destination": [
      "obj-6",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-21",
      0
     ],
     "destination": [
      "obj-6",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-23",
      0
     ],
     "destination": [
      "obj-6",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-25",
      0
     ],
     "destination": [
      "obj-6",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-27",
      0
     ],
     "destination": [
      "obj-6",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-29",
      0
     ],
     "destination": [
      "obj-6",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-31",
      0
     ],
     "destination": [
      "obj-6",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-6",
      0
     ],
     "destination": [
      "obj-33",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-33",
      0
     ],
     "destination": [
      "obj-34",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-33",
      0
     ],
     "destination": [
      "obj-34",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-6",
      1
     ],
     "destination": [
      "obj-35",
      0
     ]
    }
   }
  ]
 }
}
