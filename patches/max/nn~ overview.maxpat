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
     "text": "nn~ for Max",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      15,
      10,
      300.0,
      38.400000000000006
     ],
     "fontsize": 24.0,
     "id": "obj-1"
    }
   },
   {
    "box": {
     "maxclass": "comment",
     "text": "Neural audio models (TorchScript files following the nn~ convention) in Max. Three objects:",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      15,
      50,
      600.0,
      20.0
     ],
     "id": "obj-2"
    }
   },
   {
    "box": {
     "maxclass": "comment",
     "text": "nn~: one model method on signals. mc.nn~: several voices as batch items of one forward call. nn.info: what a model file contains.",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      15,
      75,
      600.0,
      34.0
     ],
     "id": "obj-3"
    }
   },
   {
    "box": {
     "maxclass": "comment",
     "text": "Encode to features, then decode back (demo model: loudness and brightness at 1/512 rate):",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      15,
      120,
      600.0,
      20.0
     ],
     "id": "obj-4"
    }
   },
   {
    "box": {
     "maxclass": "newobj",
     "text": "noise~",
     "numinlets": 1,
     "numoutlets": 1,
     "outlettype": [
      "signal"
     ],
     "patching_rect": [
      15,
      150,
      72.0,
      22.0
     ],
     "id": "obj-5"
    }
   },
   {
    "box": {
     "maxclass": "newobj",
     "text": "lores~ 800 0.5",
     "numinlets": 3,
     "numoutlets": 1,
     "outlettype": [
      "signal"
     ],
     "patching_rect": [
      15,
      185,
      136.0,
      22.0
     ],
     "id": "obj-6"
    }
   },
   {
    "box": {
     "maxclass": "newobj",
     "text": "nn~ demo encode",
     "numinlets": 1,
     "numoutlets": 3,
     "outlettype": [
      "signal",
      "signal",
      ""
     ],
     "patching_rect": [
      15,
      225,
      140.0,
      22.0
     ],
     "id": "obj-7"
    }
   },
   {
    "box": {
     "maxclass": "newobj",
     "text": "nn~ demo decode",
     "numinlets": 2,
     "numoutlets": 2,
     "outlettype": [
      "signal",
      ""
     ],
     "patching_rect": [
      15,
      275,
      140.0,
      22.0
     ],
     "id": "obj-8"
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
      320,
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
      360,
      45.0,
      45.0
     ],
     "id": "obj-10"
    }
   },
   {
    "box": {
     "maxclass": "comment",
     "text": "encode: 1 input, 2 outputs (one outlet per model channel, plus messages on the right)",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      200,
      225,
      420.0,
      34.0
     ],
     "id": "obj-11"
    }
   },
   {
    "box": {
     "maxclass": "comment",
     "text": "decode: 2 inputs, 1 output",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      200,
      275,
      420.0,
      20.0
     ],
     "id": "obj-12"
    }
   },
   {
    "box": {
     "maxclass": "newobj",
     "text": "nn.info demo",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "dictionary",
      ""
     ],
     "patching_rect": [
      420,
      330,
      100.0,
      22.0
     ],
     "id": "obj-13"
    }
   },
   {
    "box": {
     "maxclass": "button",
     "numinlets": 1,
     "numoutlets": 1,
     "outlettype": [
      "bang"
     ],
     "patching_rect": [
      420,
      300,
      24.0,
      24.0
     ],
     "parameter_enable": 0,
     "id": "obj-14"
    }
   },
   {
    "box": {
     "maxclass": "newobj",
     "text": "print nn.info",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      520,
      370,
      128.0,
      22.0
     ],
     "id": "obj-15"
    }
   },
   {
    "box": {
     "maxclass": "comment",
     "text": "Open the help of each object for every message and attribute. Models: put .ts files in this package's models/ folder or anywhere in Max's search path.",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      15,
      430,
      600.0,
      34.0
     ],
     "id": "obj-16"
    }
   }
  ],
  "lines": [
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
      "obj-8",
      1
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
      "obj-9",
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
      "obj-14",
      0
     ],
     "destination": [
      "obj-13",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-13",
      1
     ],
     "destination": [
      "obj-15",
      0
     ]
    }
   }
  ]
 }
}
