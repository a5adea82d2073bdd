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
   560.0
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
     "text": "nn.info",
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
     "text": "Inspect a model file: methods with their params and labels, attributes with their types, sample rate, declared latency, metadata, warnings.",
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
     "maxclass": "message",
     "text": "read demo",
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      15,
      100,
      83.0,
      22.0
     ],
     "id": "obj-3"
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
      120,
      100,
      24.0,
      24.0
     ],
     "parameter_enable": 0,
     "id": "obj-4"
    }
   },
   {
    "box": {
     "maxclass": "newobj",
     "text": "nn.info",
     "numinlets": 1,
     "numoutlets": 2,
     "outlettype": [
      "dictionary",
      ""
     ],
     "patching_rect": [
      15,
      150,
      80.0,
      22.0
     ],
     "id": "obj-5"
    }
   },
   {
    "box": {
     "maxclass": "comment",
     "text": "read loads the file on a helper thread; bang reports it again",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      160,
      100,
      400.0,
      34.0
     ],
     "id": "obj-6"
    }
   },
   {
    "box": {
     "maxclass": "dict.view",
     "numinlets": 1,
     "numoutlets": 1,
     "outlettype": [
      ""
     ],
     "patching_rect": [
      15,
      200,
      380.0,
      300.0
     ],
     "id": "obj-7"
    }
   },
   {
    "box": {
     "maxclass": "newobj",
     "text": "route method attribute latency samplerate",
     "numinlets": 2,
     "numoutlets": 5,
     "outlettype": [
      "",
      "",
      "",
      "",
      ""
     ],
     "patching_rect": [
      420,
      200,
      300.0,
      22.0
     ],
     "id": "obj-8"
    }
   },
   {
    "box": {
     "maxclass": "newobj",
     "text": "print method",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      420.0,
      250.0,
      120.0,
      22.0
     ],
     "id": "obj-9"
    }
   },
   {
    "box": {
     "maxclass": "newobj",
     "text": "print attribute",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      420.0,
      285.0,
      144.0,
      22.0
     ],
     "id": "obj-10"
    }
   },
   {
    "box": {
     "maxclass": "newobj",
     "text": "print latency",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      420.0,
      320.0,
      128.0,
      22.0
     ],
     "id": "obj-11"
    }
   },
   {
    "box": {
     "maxclass": "newobj",
     "text": "print samplerate",
     "numinlets": 1,
     "numoutlets": 0,
     "outlettype": [],
     "patching_rect": [
      420.0,
      355.0,
      152.0,
      22.0
     ],
     "id": "obj-12"
    }
   },
   {
    "box": {
     "maxclass": "comment",
     "text": "Right outlet, one message per fact: path, samplerate, methods, method <name> <in channels> <in ratio> <out channels> <out ratio>, inputs/outputs <method> <labels>, latency <method> <samples>, attribute <name> <types>, buffers, metadata <key> <value>, verified, warning.",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      420,
      400,
      400.0,
      76.0
     ],
     "id": "obj-13"
    }
   }
  ],
  "lines": [
   {
    "patchline": {
     "source": [
      "obj-3",
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
      "obj-7",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-5",
      1
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
      "obj-8",
      1
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
      "obj-8",
      2
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
      "obj-8",
      3
     ],
     "destination": [
      "obj-12",
      0
     ]
    }
   }
  ]
 }
}
