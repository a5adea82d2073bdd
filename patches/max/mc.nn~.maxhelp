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
   860.0,
   620.0
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
     "text": "mc.nn~",
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
     "text": "Several voices through one model in one forward call: the voices of a multichannel cable are the batch items of the model.",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      15,
      50,
      600.0,
      34.0
     ],
     "id": "obj-2"
    }
   },
   {
    "box": {
     "maxclass": "comment",
     "text": "mc.nn~ <model> [<method>] [<buffer size>] @chans <voices> (fixed at creation)",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      15,
      85,
      600.0,
      20.0
     ],
     "id": "obj-3"
    }
   },
   {
    "box": {
     "maxclass": "newobj",
     "text": "mc.cycle~ @chans 4 @values 110 165 220 330",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      "multichannelsignal"
     ],
     "patching_rect": [
      15,
      130,
      300.0,
      22.0
     ],
     "id": "obj-4"
    }
   },
   {
    "box": {
     "maxclass": "newobj",
     "text": "mc.*~ 0.8",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      "multichannelsignal"
     ],
     "patching_rect": [
      15,
      170,
      96.0,
      22.0
     ],
     "id": "obj-5"
    }
   },
   {
    "box": {
     "maxclass": "newobj",
     "text": "mc.nn~ demo forward @chans 4",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "multichannelsignal",
      ""
     ],
     "patching_rect": [
      15,
      260,
      220.0,
      22.0
     ],
     "id": "obj-6"
    }
   },
   {
    "box": {
     "maxclass": "newobj",
     "text": "mc.stereo~",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "signal",
      "signal"
     ],
     "patching_rect": [
      15,
      320,
      104.0,
      22.0
     ],
     "id": "obj-7"
    }
   },
   {
    "box": {
     "maxclass": "newobj",
     "text": "*~ 0.1",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      "signal"
     ],
     "patching_rect": [
      15,
      360,
      72.0,
      22.0
     ],
     "id": "obj-8"
    }
   },
   {
    "box": {
     "maxclass": "newobj",
     "text": "*~ 0.1",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      "signal"
     ],
     "patching_rect": [
      90,
      360,
      72.0,
      22.0
     ],
     "id": "obj-9"
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
      400,
      45.0,
      45.0
     ],
     "id": "obj-10"
    }
   },
   {
    "box": {
     "maxclass": "newobj",
     "text": "print mc.nn~",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      260,
      320,
      120.0,
      22.0
     ],
     "id": "obj-11"
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
      340,
      130,
      48.0,
      22.0
     ],
     "id": "obj-12"
    }
   },
   {
    "box": {
     "maxclass": "comment",
     "text": "channels, buffer, latency... per object",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      510.0,
      130,
      300.0,
      20.0
     ],
     "id": "obj-13"
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
      340,
      158.0,
      55.0,
      22.0
     ],
     "id": "obj-14"
    }
   },
   {
    "box": {
     "maxclass": "comment",
     "text": "one worker runs all voices",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      510.0,
      158.0,
      300.0,
      20.0
     ],
     "id": "obj-15"
    }
   },
   {
    "box": {
     "maxclass": "comment",
     "text": "Each signal inlet carries one model input channel for every voice; each outlet one output channel for every voice. A cable with fewer channels than voices wraps (voice v reads channel v mod n), so a mono cable feeds every voice; extra channels are ignored.",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      340,
      200,
      460.0,
      62.0
     ],
     "id": "obj-16"
    }
   },
   {
    "box": {
     "maxclass": "comment",
     "text": "All nn~ messages and attributes work here too (load, method, set, get, bufsize, headroom, @policy...). Not yet run inside Max: see the package README.",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      15,
      470,
      600.0,
      34.0
     ],
     "id": "obj-17"
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
      "obj-6",
      0
     ],
     "destination": [
      "obj-7",
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
      "obj-8",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-7",
      1
     ],
     "destination": [
      "obj-9",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-8",
      0
     ],
     "destination": [
      "obj-10",
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
      "obj-10",
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
      "obj-11",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-12",
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
      "obj-14",
      0
     ],
     "destination": [
      "obj-6",
      0
     ]
    }
   }
  ]
 }
}
