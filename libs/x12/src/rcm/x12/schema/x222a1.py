"""837 Professional, 005010X222A1 (X222 and X222A2 are read with this structure).

Loops: 1000A submitter, 1000B receiver; 2000A billing provider (2010AA billing
provider, 2010AB pay-to address, 2010AC pay-to plan); 2000B subscriber (2010BA
subscriber, 2010BB payer, 2300 claims); 2000C patient (2010CA, 2300 claims).
2300 claim: 2310A-F claim providers/locations, 2320 other subscriber (2330A-G),
2400 service line (2410 drug, 2420A-H line providers, 2430 line adjudication,
2440 form).
"""

from __future__ import annotations

import textwrap

from rcm.x12.schema import HIPAA_NOT_USED, Guide, parse_structure

_CLAIM = """
@2300 S 100
  CLM R 1 05.2=B 05.3=1,6,7,8 06! 06=N,Y 07! 07=A,B,C 08! 08=N,W,Y 09! 09=I,Y 03- 04- 13- 14- 15- 16- 17- 18- 19-
  DTP S 1 *01=431 02=D8
  DTP S 1 *01=454 02=D8
  DTP S 1 *01=304 02=D8
  DTP S 1 *01=453 02=D8
  DTP S 1 *01=439 02=D8
  DTP S 1 *01=484 02=D8
  DTP S 1 *01=455 02=D8
  DTP S 1 *01=471 02=D8
  DTP S 1 *01=314,360,361 02=D8,RD8
  DTP S 1 *01=297 02=D8
  DTP S 1 *01=296 02=D8
  DTP S 1 *01=435 02=D8
  DTP S 1 *01=096 02=D8
  DTP S 1 *01=090 02=D8
  DTP S 1 *01=091 02=D8
  DTP S 1 *01=444 02=D8
  DTP S 1 *01=050 02=D8
  PWK S 10 03- 04- 07- 09-
  CN1 S 1
  AMT S 1 *01=F5
  REF S 1 *01=4N
  REF S 1 *01=F5
  REF S 1 *01=EW
  REF S 1 *01=9F
  REF S 1 *01=G1
  REF S 1 *01=F8
  REF S 1 *01=X4
  REF S 1 *01=9A
  REF S 1 *01=9C
  REF S 1 *01=LX
  REF S 1 *01=D9
  REF S 1 *01=EA
  REF S 1 *01=P4
  REF S 1 *01=1J
  K3 S 10 02-
  NTE S 1 01=ADD,CER,DCP,DGN,TPO
  CR1 S 1 03- 07- 08-
  CR2 S 1 01- 02- 03- 04- 05- 06- 07- 09- 12-
  CRC S 3 *01=07
  CRC S 3 *01=E1,E2,E3
  CRC S 1 *01=75 04- 05- 06- 07-
  CRC S 1 *01=ZZ 06- 07-
  HI R 1 *01.1=ABK,BK 02.1=ABF,BF 03.1=ABF,BF 04.1=ABF,BF 05.1=ABF,BF 06.1=ABF,BF 07.1=ABF,BF 08.1=ABF,BF 09.1=ABF,BF 10.1=ABF,BF 11.1=ABF,BF 12.1=ABF,BF
  HI S 1 *01.1=BP,BO
  HI S 2 *01.1=BG
  HCP S 1 08- 09- 10- 11- 12-
  @2310A S 2
    NM1 R 1 *01=DN,P3 02=1 06-
    REF S 3 *01=0B,1G,G2
  @2310B S 1
    NM1 R 1 *01=82 02=1,2 06-
    PRV S 1 *01=PE 04- 06-
    REF S 4 *01=0B,1G,G2,LU
  @2310C S 1
    NM1 R 1 *01=77 02=2 04- 05- 06- 07-
    N3 R 1
    N4 R 1
    REF S 3 *01=0B,G2,LU
    PER S 1 *01=IC 07- 08-
  @2310D S 1
    NM1 R 1 *01=DQ 02=1 06-
    REF S 4 *01=0B,1G,G2,LU
  @2310E S 1
    NM1 R 1 *01=PW 02=2 03- 04- 05- 06- 07- 08- 09-
    N3 R 1
    N4 R 1
  @2310F S 1
    NM1 R 1 *01=45 02=2 04- 05- 06- 07- 08- 09-
    N3 R 1
    N4 R 1
  @2320 S 10
    SBR R 1 01=A,B,C,D,E,F,G,H,P,S,T,U 06- 07- 08-
    CAS S 5 01=CO,CR,OA,PI,PR
    AMT S 1 *01=D
    AMT S 1 *01=A8
    AMT S 1 *01=EAF
    OI R 1 01- 02- 05-
    MOA S 1
    @2330A R 1
      NM1 R 1 *01=IL 02=1,2 06-
      N3 S 1
      N4 S 1
      REF S 1 *01=SY
    @2330B R 1
      NM1 R 1 *01=PR 02=2 04- 05- 06- 07-
      N3 S 1
      N4 S 1
      DTP S 1 *01=573 02=D8
      REF S 2 *01=2U,EI,FY,NF
      REF S 2 *01=G1
      REF S 2 *01=9F
      REF S 1 *01=T4
      REF S 1 *01=F8
    @2330C S 2
      NM1 R 1 *01=DN,P3 02=1 03- 04- 05- 06- 07- 08- 09-
      REF R 3 *01=0B,1G,G2
    @2330D S 1
      NM1 R 1 *01=82 02=1,2 03- 04- 05- 06- 07- 08- 09-
      REF R 3 *01=0B,1G,G2,LU
    @2330E S 1
      NM1 R 1 *01=77 02=2 03- 04- 05- 06- 07- 08- 09-
      REF R 3 *01=0B,G2,LU
    @2330F S 1
      NM1 R 1 *01=DQ 02=1 03- 04- 05- 06- 07- 08- 09-
      REF R 3 *01=0B,1G,G2,LU
    @2330G S 1
      NM1 R 1 *01=85 02=1,2 03- 04- 05- 06- 07- 08- 09-
      REF R 2 *01=G2,LU
  @2400 R 50
    LX R 1
    SV1 R 1 01.1=ER,HC,IV,WK 03=MJ,UN 06- 08- 10- 13- 14- 16- 17- 18- 19- 20- 21-
    SV5 S 1 07-
    PWK S 1 *01=CT 03- 04- 05- 06- 07- 09-
    PWK S 10 03- 04- 05- 06- 07- 09-
    CR1 S 1 03- 07- 08-
    CR3 S 1 04- 05-
    CRC S 1 *01=07
    CRC S 1 *01=70 04- 05- 06- 07-
    CRC S 1 *01=09 05- 06- 07-
    DTP R 1 *01=472 02=D8,RD8
    DTP S 1 *01=471 02=D8
    DTP S 2 *01=607 02=D8
    DTP S 1 *01=463 02=D8
    DTP S 1 *01=461 02=D8
    DTP S 1 *01=304 02=D8
    DTP S 2 *01=738,739 02=D8
    DTP S 1 *01=011 02=D8
    DTP S 1 *01=455 02=D8
    DTP S 1 *01=454 02=D8
    QTY S 1 *01=PT
    QTY S 1 *01=FL
    MEA S 5 05- 06- 07- 08- 09- 10- 11- 12-
    CN1 S 1
    REF S 1 *01=9B
    REF S 1 *01=9D
    REF S 5 *01=G1
    REF S 1 *01=6R
    REF S 1 *01=EW
    REF S 2 *01=X4
    REF S 1 *01=F4
    REF S 1 *01=BT
    REF S 5 *01=9F
    REF S 1 *01=1S
    AMT S 1 *01=T
    AMT S 1 *01=F4
    K3 S 10 02-
    NTE S 1 *01=ADD,DCP
    NTE S 1 *01=TPO
    PS1 S 1 03-
    HCP S 1 08-
    @2410 S 1
      LIN R 1 01-
      CTP R 1 01- 02- 03- 06- 07- 08- 09- 10- 11-
      REF S 1 *01=XZ,VY
    @2420A S 1
      NM1 R 1 *01=82 02=1,2 06-
      PRV S 1 *01=PE 04- 06-
      REF S 20 *01=0B,1G,G2,LU
    @2420B S 1
      NM1 R 1 *01=QB 02=2 03- 04- 05- 06- 07-
      REF S 20 *01=0B,G2
    @2420C S 1
      NM1 R 1 *01=77 02=2 04- 05- 06- 07-
      N3 R 1
      N4 R 1
      REF S 3 *01=0B,G2,LU
    @2420D S 1
      NM1 R 1 *01=DQ 02=1 06-
      REF S 20 *01=0B,1G,G2,LU
    @2420E S 1
      NM1 R 1 *01=DK 02=1 06-
      N3 S 1
      N4 S 1
      REF S 20 *01=0B,1G,G2
      PER S 1 *01=IC
    @2420F S 2
      NM1 R 1 *01=DN,P3 02=1 06-
      REF S 20 *01=0B,1G,G2
    @2420G S 1
      NM1 R 1 *01=PW 02=2 03- 04- 05- 06- 07- 08- 09-
      N3 R 1
      N4 R 1
    @2420H S 1
      NM1 R 1 *01=45 02=2 04- 05- 06- 07- 08- 09-
      N3 R 1
      N4 R 1
    @2430 S 15
      SVD R 1 04-
      CAS S 5 01=CO,CR,OA,PI,PR
      DTP R 1 *01=573 02=D8
      AMT S 1 *01=EAF
    @2440 S >1
      LQ R 1 01=AS,UT
      FRM R 99
"""


def _claim(indent: int) -> str:
    return textwrap.indent(textwrap.dedent(_CLAIM).strip("\n"), " " * indent)


STRUCTURE = f"""
ST R 1 *01=837 03=005010X222A1,005010X222,005010X222A2
BHT R 1 01=0019 02=00,18 03! 04! 05! 06! 06=31,CH,RP
@1000A R 1
  NM1 R 1 *01=41 02=1,2 03! 08=46 09! 06- 07-
  PER R 2 *01=IC
@1000B R 1
  NM1 R 1 *01=40 02=2 03! 08=46 09! 04- 05- 06- 07-
@2000A R >1
  HL R 1 *03=20 02- 04! 04=1
  PRV S 1 *01=BI 02=PXC 04- 06-
  CUR S 1 *01=85 03- 04- 05- 06- 07- 08- 09- 10- 11- 12- 13- 14- 15- 16- 17- 18- 19- 20- 21-
  @2010AA R 1
    NM1 R 1 *01=85 02=1,2 03! 08=XX 09! 06-
    N3 R 1
    N4 R 1
    REF R 1 *01=EI,SY
    REF S 2 *01=0B,1G
    PER S 2 *01=IC
  @2010AB S 1
    NM1 R 1 *01=87 02=1,2 03- 04- 05- 06- 07- 08- 09- 10- 11- 12-
    N3 R 1
    N4 R 1
  @2010AC S 1
    NM1 R 1 *01=PE 02=2 08=PI,XV 04- 05- 06- 07-
    N3 S 1
    N4 S 1
    REF S 2 *01=2U,FY,NF
    REF S 1 *01=EI
  @2000B R >1
    HL R 1 *03=22 04! 04=0,1
    SBR R 1 01=A,B,C,D,E,F,G,H,P,S,T,U 02=18 09=11,12,13,14,15,16,17,AM,BL,CH,CI,DS,FI,HM,LM,MA,MB,MC,OF,TV,VA,WC,ZZ 06- 07- 08-
    PAT S 1 01- 02- 03- 04-
    @2010BA R 1
      NM1 R 1 *01=IL 02=1,2 03! 08=II,MI 06-
      N3 S 1
      N4 S 1
      DMG S 1 01=D8 02! 03! 03=F,M,U 04- 06- 07- 08- 09- 10- 11-
      REF S 1 *01=SY
      REF S 1 *01=Y4
      PER S 1 *01=IC 07- 08-
    @2010BB R 1
      NM1 R 1 *01=PR 02=2 03! 08=PI,XV 09! 04- 05- 06- 07-
      N3 S 1
      N4 S 1
      REF S 3 *01=2U,EI,FY,NF
      REF S 2 *01=G2,LU
{_claim(4)}
    @2000C S >1
      HL R 1 *03=23 04! 04=0
      PAT R 1 01! 02- 03- 04-
      @2010CA R 1
        NM1 R 1 *01=QC 02=1 03! 06- 08- 09-
        N3 R 1
        N4 R 1
        DMG R 1 01=D8 02! 03! 03=F,M,U 04- 06- 07- 08- 09- 10- 11-
        REF S 1 *01=Y4
        REF S 1 *01=1W,SY
        PER S 1 *01=IC 07- 08-
{_claim(6)}
"""

GUIDE = Guide(
    id="005010X222A1",
    transaction="837",
    name="Health Care Claim: Professional",
    root=parse_structure(STRUCTURE, not_used=HIPAA_NOT_USED),
    business_units=(("2300", "CLM01", "CLM", 1),),
    claim_loops=frozenset({"2300"}),
)
