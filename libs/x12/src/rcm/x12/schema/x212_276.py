"""276 Health Care Claim Status Request, 005010X212.

2000A payer (2100A); 2000B information receiver (2100B); 2000C service
provider (2100C); 2000D subscriber (DMG, 2100D, 2200D claim, 2210D line);
2000E dependent (DMG, 2100E, 2200E, 2210E).
"""

from __future__ import annotations

from rcm.x12.schema import HIPAA_NOT_USED, Guide, parse_structure

_CLAIM = """
  TRN R 1 *01=1
  REF S 1 *01=BLT
  REF S 1 *01=EA
  REF S 1 *01=EJ
  REF S 1 *01=XZ
  REF S 1 *01=VV
  REF S 1 *01=D9
  REF S 1 *01=1K
  AMT S 1 *01=T3
  DTP S 1 *01=472 02=D8,RD8
  @22{L}0{X} S >1
    SVC R 1
    REF S 1 *01=FJ
    DTP S 1 *01=472 02=D8,RD8
"""


def _block(text: str, indent: int, level: str) -> str:
    text = text.replace("{L}", "1").replace("{X}", level)
    return "\n".join(" " * (indent - 2) + line for line in text.strip("\n").splitlines())


STRUCTURE = f"""
ST R 1 *01=276 03=005010X212
BHT R 1 01=0010 02=13
@2000A R >1
  HL R 1 *03=20
  @2100A R 1
    NM1 R 1 *01=PR 02=1,2
  @2000B R >1
    HL R 1 *03=21
    @2100B R 1
      NM1 R 1 *01=41 02=1,2
    @2000C R >1
      HL R 1 *03=19
      @2100C R 1
        NM1 R 1 *01=1P 02=1,2
      @2000D R >1
        HL R 1 *03=22
        DMG S 1 01=D8
        @2100D R 1
          NM1 R 1 *01=IL 02=1
        @2200D S >1
{_block(_CLAIM, 10, "D")}
        @2000E S >1
          HL R 1 *03=23
          DMG S 1 01=D8
          @2100E R 1
            NM1 R 1 *01=QC 02=1
          @2200E R >1
{_block(_CLAIM, 12, "E")}
"""

GUIDE = Guide(
    id="005010X212",
    transaction="276",
    name="Health Care Claim Status Request",
    root=parse_structure(STRUCTURE, not_used=HIPAA_NOT_USED),
    business_units=(("2200D", "TRN02", "TRN", 2), ("2200E", "TRN02", "TRN", 2)),
    claim_loops=frozenset({"2200D", "2200E"}),
)
