"""277CA Health Care Claim Acknowledgment, 005010X214.

2000A source (2100A payer/clearinghouse, 2200A trace and dates); 2000B receiver
(2100B, 2200B status and totals); 2000C billing provider (2100C, 2200C); 2000D
patient (HL03=PT: 2100D, 2200D claim status, 2220D line status).
"""

from __future__ import annotations

from rcm.x12.schema import Guide, parse_structure

STRUCTURE = """
ST R 1 *01=277 03=005010X214
BHT R 1 01=0085 02=08 03! 04! 06! 06=TH
@2000A R >1
  HL R 1 *03=20
  @2100A R 1
    NM1 R 1 *01=AY,PR 02=1,2
  @2200A R 1
    TRN R 1 *01=1
    DTP R 1 *01=050 02=D8
    DTP R 1 *01=009 02=D8
  @2000B R >1
    HL R 1 *03=21
    @2100B R 1
      NM1 R 1 *01=41 02=1,2
    @2200B R 1
      TRN R 1 *01=2
      STC S >1
      QTY S 1 *01=90
      QTY S 1 *01=AA
      AMT S 1 *01=YU
      AMT S 1 *01=YY
    @2000C S >1
      HL R 1 *03=19
      @2100C R 1
        NM1 R 1 *01=85 02=1,2
      @2200C S 1
        TRN R 1 *01=1
        STC S >1
        REF S 2 *01=TJ,SY,0B
        QTY S 1 *01=QA
        QTY S 1 *01=QC
        AMT S 1 *01=YU
        AMT S 1 *01=YY
      @2000D S >1
        HL R 1 *03=PT
        @2100D R 1
          NM1 R 1 *01=QC 02=1
        @2200D R >1
          TRN R 1 *01=2
          STC R >1
          REF S 1 *01=1K
          REF S 1 *01=D9
          REF S 1 *01=BLT
          REF S 1 *01=EA
          DTP S 1 *01=472 02=D8,RD8
          @2220D S >1
            SVC R 1
            STC R >1
            REF S 1 *01=FJ
            DTP S 1 *01=472 02=D8,RD8
"""

GUIDE = Guide(
    id="005010X214",
    transaction="277",
    name="Health Care Claim Acknowledgment",
    root=parse_structure(STRUCTURE),
    business_units=(("2200D", "TRN02", "TRN", 2),),
    claim_loops=frozenset({"2200D"}),
)
