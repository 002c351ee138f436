"""278 Health Care Services Review, request and response, 005010X217.

One structure covers both directions (BHT02 13 request, 11 response):
2000A UMO (2010A); 2000B requester (2010B); 2000C subscriber (2010C); 2000D
dependent (2010D); 2000E patient event (UM, HCR, dates, diagnoses; 2010EA providers,
2010EB an additional contact, 2010EC up to five transport locations: pickup, drop-off,
next and final destinations); 2000F service (UM, HCR, SV1/SV2/SV3; 2010F providers). Event loops
sit under the subscriber or the dependent. The event's UM01 is a review category
(AR admission, HS health services, IN individual, SC specialty care). Every HL carries HL04
(1 above a child level, 0 on the service level). A service level's SV1 may name its procedure
alone: its charge and units are situational (a quantity may be the event's HSD).
"""

from __future__ import annotations

from rcm.x12.schema import Guide, parse_structure

_EVENT = """
@2000E S >1
  HL R 1 *03=EV 02! 04! 04=0,1
  TRN S 3
  AAA S 9
  UM R 1 01=AR,HS,IN,SC 05.1=AA,AP,EM,OA 05.2=AA,AP,EM,OA 05.3=AA,AP,EM,OA 06=03,E,U
  HCR S 1
  REF S 9
  DTP S 3 02=D8,RD8
  HI S 1
  HSD S 1
  CRC S 9
  CL1 S 1
  CR1 S 1
  CR2 S 1
  CR5 S 1
  CR6 S 1
  PWK S 10
  MSG S 1
  @2010EA S 12
    NM1 R 1 *01=71,72,73,77,AAJ,DD,DK,DN,FA,G3,P3,QB,QV,SJ 02=1,2
    REF S 7
    N3 S 1
    N4 S 1
    PER S 1
    AAA S 9
    PRV S 1
  @2010EB S 1
    NM1 R 1 *01=L5 02=1,2
    N3 S 1
    N4 S 1
    PER S 1
  @2010EC S 5
    NM1 R 1 *01=45,FS,ND,PW,R3 02=1,2
    REF S 1
    N3 S 1
    N4 S 1
    AAA S 9
  @2000F S >1
    HL R 1 *03=SS 02! 04! 04=0
    TRN S 3
    AAA S 9
    UM S 1
    HCR S 1
    REF S 9
    DTP S 2 02=D8,RD8
    SV1 S 1 02? 03? 04?
    SV2 S 1
    SV3 S 1 01.1=AD
    TOO S 10
    HSD S 1
    PWK S 10
    MSG S 1
    @2010F S 12
      NM1 R 1 *01=71,72,73,77,AAJ,DD,DK,DN,FA,G3,P3,QB,QV,SJ 02=1,2
      REF S 7
      N3 S 1
      N4 S 1
      PER S 1
      AAA S 9
      PRV S 1
"""


def _block(indent: int) -> str:
    return "\n".join(" " * indent + line for line in _EVENT.strip("\n").splitlines())


STRUCTURE = f"""
ST R 1 *01=278 03=005010X217
BHT R 1 01=0007 02=01,11,13,36
@2000A R 1
  HL R 1 *03=20 02- 04! 04=1
  AAA S 9
  @2010A R 1
    NM1 R 1 *01=X3 02=1,2
    PER S 3
    AAA S 9
  @2000B R 1
    HL R 1 *03=21 02! 04! 04=0,1
    @2010B R 1
      NM1 R 1 *01=1P,FA 02=1,2
      REF S 3
      N3 S 1
      N4 S 1
      PER S 1
      AAA S 9
      PRV S 1
    @2000C R 1
      HL R 1 *03=22 02! 04! 04=0,1
      @2010C R 1
        NM1 R 1 *01=IL 02=1
        REF S 2
        N3 S 1
        N4 S 1
        AAA S 9
        DMG S 1 01=D8
        INS S 1
      @2000D S 1
        HL R 1 *03=23 02! 04! 04=0,1
        @2010D R 1
          NM1 R 1 *01=QC 02=1
          REF S 3
          N3 S 1
          N4 S 1
          AAA S 9
          DMG S 1 01=D8
          INS S 1
{_block(8)}
{_block(6)}
"""

GUIDE = Guide(
    id="005010X217",
    transaction="278",
    name="Health Care Services Review",
    root=parse_structure(STRUCTURE),
    business_units=(("2000E", "TRN02", "TRN", 2),),
    claim_loops=frozenset({"2000E"}),
)
