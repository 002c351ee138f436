"""270 Eligibility, Coverage or Benefit Inquiry, 005010X279A1 (X279 is read with this structure).

2000A information source (2100A); 2000B information receiver (2100B); 2000C
subscriber (TRN, 2100C, 2110C inquiries); 2000D dependent (TRN, 2100D, 2110D).
"""

from __future__ import annotations

from rcm.x12.schema import Guide, parse_structure

_MEMBER = """
  REF S 9 01=18,1L,1W,3H,6P,CE,EA,EJ,F6,GH,HJ,IF,IG,MRC,N6,NQ,SY,Y4
  N3 S 1
  N4 S 1
  PRV S 1
  DMG S 1 01=D8
  INS S 1
  HI S 1
  DTP S 2 *01=291,307,435,472 02=D8,RD8
"""

_INQUIRY = """
  EQ R 1
  AMT S 1 *01=R
  AMT S 1 *01=PB
  III S 10
  REF S 1 *01=9F,G1
  DTP S 1 *01=291,307,435,472 02=D8,RD8
"""


def _block(text: str, indent: int) -> str:
    return "\n".join(" " * (indent - 2) + line for line in text.strip("\n").splitlines())


STRUCTURE = f"""
ST R 1 *01=270 03=005010X279A1,005010X279
BHT R 1 01=0022 02=01,13,36
@2000A R >1
  HL R 1 *03=20
  @2100A R 1
    NM1 R 1 *01=2B,36,GP,P5,PR 02=1,2
  @2000B R >1
    HL R 1 *03=21
    @2100B R 1
      NM1 R 1 *01=1P,2B,36,80,FA,GP,P5,PR 02=1,2
      REF S 9 *01=0B,1C,1D,1J,4A,CT,EL,EO,HPI,JD,N5,N7,Q4,SY,TJ
      N3 S 1
      N4 S 1
      PRV S 1
    @2000C R >1
      HL R 1 *03=22
      TRN S 2 *01=1
      @2100C R 1
        NM1 R 1 *01=IL 02=1
{_block(_MEMBER, 8)}
        @2110C S 99
{_block(_INQUIRY, 10)}
      @2000D S >1
        HL R 1 *03=23
        TRN S 2 *01=1
        @2100D R 1
          NM1 R 1 *01=03 02=1
{_block(_MEMBER, 10)}
          @2110D S 99
{_block(_INQUIRY, 12)}
"""

GUIDE = Guide(
    id="005010X279A1",
    transaction="270",
    name="Eligibility, Coverage or Benefit Inquiry",
    root=parse_structure(STRUCTURE),
    business_units=(("2000C", "TRN02", "TRN", 2), ("2000D", "TRN02", "TRN", 2)),
    claim_loops=frozenset({"2000C"}),
)
